// Moved to libs/scheduling (the API's queue dashboard needs it too).
export { bullConnection } from '@aftersales/scheduling';
