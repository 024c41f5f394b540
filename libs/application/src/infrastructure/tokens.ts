/** Injection tokens for the ports every process role shares. */
export const APP_CONFIG = Symbol('APP_CONFIG');
export const EVENT_STORE = Symbol('EVENT_STORE');
export const REDIS = Symbol('REDIS');
/** Optional: an AppendObserver (the API's metrics) that times every append. */
export const APPEND_OBSERVER = Symbol('APPEND_OBSERVER');
/** Optional: the process's prom-client Registry (served at /metrics by the API), for other roles' series. */
export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');
