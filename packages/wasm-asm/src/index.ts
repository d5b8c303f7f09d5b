export * from './encoding';
export * from './runtime';
