/**
 * What the board draws only once the canvas has painted its cards (App.tsx, ui/afterPaint.ts):
 * the side panels, the toolbar's buttons, the debug console — with the Webview UI Toolkit and
 * YAML, which only they use. esbuild makes this module, and all it alone needs, a chunk of
 * its own (webview/build.mjs), fetched when the first of them is drawn: the page evaluates
 * none of it before its first paint.
 */
export { Inspector } from './panels/Inspector';
export { Outline } from './panels/Outline';
export { Palette } from './panels/Palette';
export { ProblemList } from './panels/Problems';
export { DebugConsole } from './run/DebugConsole';
export { RunToolbar } from './run/RunToolbar';
export { IconButton, ToggleButton } from './ui/controls';
export { VSCodePanels, VSCodePanelTab, VSCodePanelView } from './ui/toolkit';
