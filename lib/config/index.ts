export * from './schema';
export * from './load';
export * from './service-registry';
export { ENVIRONMENTS } from './environments';
