export * from './alarm-actions';
export * from './cache-alarms';
export * from './database-alarms';
export * from './instance-classes';
