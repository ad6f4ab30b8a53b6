export * from './deviation';
export * from './diagnostic';
export * from './duration';
export * from './instrument';
export * from './melody';
export * from './mission';
export * from './nodeKinds';
export * from './result';
