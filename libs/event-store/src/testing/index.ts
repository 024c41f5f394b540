export { describeEventStoreContract, type ContractOptions, type EventStoreUnderTest } from './contract';
