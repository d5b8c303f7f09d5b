export { parseCsv, parseCsvLine } from './csv';
export { DATA_DIR, uciProducts, uciPurchases } from './uci-online-retail';
export type { UciBasketOptions } from './uci-online-retail';
export { digineticaInteractions } from './diginetica';
