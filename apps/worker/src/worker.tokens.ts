/** The WorkQueues over the worker's BullMQ queues. */
export const WORK_QUEUES = Symbol('WORK_QUEUES');
