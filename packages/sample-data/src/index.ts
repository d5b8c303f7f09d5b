export { parseCsv, parseCsvLine } from './csv';
export { DATA_DIR, uciCatalog, uciCustomerPurchases, uciProducts, uciPurchases } from './uci-online-retail';
export type { UciBasketOptions } from './uci-online-retail';
export { digineticaCategories, digineticaInteractions } from './diginetica';
export { instacartProducts, instacartPurchases } from './instacart';
