export * from './schema';
export * from './load';
export * from './service-registry';
export * from './cache-registry';
export * from './cache-acl';
export { ENVIRONMENTS } from './environments';
export * from './cost';
