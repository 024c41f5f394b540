export * from './buyer-flags.service';
