/**
 * Every command id the extension registers, in one place. A unit test checks this list
 * against `contributes.commands` in package.json, both ways.
 */
export const COMMANDS = {
  initializeWorkspace: 'symphony.initializeWorkspace',
  editSheetMusic: 'symphony.editSheetMusic',
  openHandoff: 'symphony.openHandoff',
  validateMelodies: 'symphony.validateMelodies',
  refreshEnsembles: 'symphony.refreshEnsembles',
  refreshMelodies: 'symphony.refreshMelodies',
  showLog: 'symphony.showLog',
  showTriggers: 'symphony.showTriggers',
  recordDeviation: 'symphony.recordDeviation',
  openDeviationRecord: 'symphony.openDeviationRecord',
  resolveDeviation: 'symphony.resolveDeviation',
  scanDeviations: 'symphony.scanDeviations',
  setupChambers: 'symphony.setupChambers',
  mergeChambers: 'symphony.mergeChambers',
  cleanupTask: 'symphony.cleanupTask',
  runMelody: 'symphony.runMelody',
  cancelRun: 'symphony.cancelRun',
  resumeRun: 'symphony.resumeRun',
  replayFromNode: 'symphony.replayFromNode',
  openNodeResult: 'symphony.openNodeResult',
  openRunLog: 'symphony.openRunLog',
  refreshRuns: 'symphony.refreshRuns',
  setSecret: 'symphony.setSecret',
  deleteSecret: 'symphony.deleteSecret',
  setApiKey: 'symphony.setApiKey',
  deleteApiKey: 'symphony.deleteApiKey',
  checkModels: 'symphony.checkModels',
  installLocalRuntime: 'symphony.installLocalRuntime',
  conduct: 'symphony.conduct',
  openBoard: 'symphony.openBoard',
  openMelodyText: 'symphony.openMelodyText',
  newMelodyFromTemplate: 'symphony.newMelodyFromTemplate',
  openModelSetup: 'symphony.openModelSetup',
} as const;

export type CommandId = (typeof COMMANDS)[keyof typeof COMMANDS];

/** View ids, as contributed under `contributes.views.symphony`. */
export const VIEWS = {
  ensembles: 'symphony.ensembles',
  melodies: 'symphony.melodies',
  runs: 'symphony.runs',
  deviations: 'symphony.deviations',
} as const;

/** Custom editor view types, as contributed under `contributes.customEditors`. */
export const EDITORS = {
  harmonyBoard: 'symphony.harmonyBoard',
} as const;
