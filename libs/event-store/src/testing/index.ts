export { describeEventStoreContract, type ContractOptions, type EventStoreUnderTest } from './contract';
export { InMemoryEventStore } from './in-memory-event-store';
