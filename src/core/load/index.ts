export * from './ensembles';
export * from './fs';
export * from './melody';
export * from './workspace';
export * from './yamlData';
export * from './yamlSource';
