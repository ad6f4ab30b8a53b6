/**
 * The Webview UI Toolkit's React components that the board uses, and only those. The
 * toolkit's own `@vscode/webview-ui-toolkit/react` defines all nineteen of its elements as
 * soon as it is imported (each `wrap` registers its element with the design system), and
 * a bundler keeps every one of them: the board's script then spends its first moments
 * defining data grids, radios and progress rings it never draws. These are the same
 * wrappers, made the same way (react/index.js in the toolkit), for the nine it draws.
 */
import { provideReactWrapper } from '@microsoft/fast-react-wrapper';
import React from 'react';
import {
  provideVSCodeDesignSystem,
  vsCodeButton,
  vsCodeCheckbox,
  vsCodeDropdown,
  vsCodeOption,
  vsCodePanelTab,
  vsCodePanelView,
  vsCodePanels,
  vsCodeTextArea,
  vsCodeTextField,
} from '@vscode/webview-ui-toolkit';

const { wrap } = provideReactWrapper(React, provideVSCodeDesignSystem());

export const VSCodeButton = wrap(vsCodeButton(), { name: 'vscode-button' });
export const VSCodeCheckbox = wrap(vsCodeCheckbox(), { name: 'vscode-checkbox', events: { onChange: 'change' } });
export const VSCodeDropdown = wrap(vsCodeDropdown(), { name: 'vscode-dropdown', events: { onChange: 'change' } });
export const VSCodeOption = wrap(vsCodeOption(), { name: 'vscode-option' });
export const VSCodePanels = wrap(vsCodePanels(), { name: 'vscode-panels', events: { onChange: 'change' } });
export const VSCodePanelTab = wrap(vsCodePanelTab(), { name: 'vscode-panel-tab' });
export const VSCodePanelView = wrap(vsCodePanelView(), { name: 'vscode-panel-view' });
export const VSCodeTextArea = wrap(vsCodeTextArea(), { name: 'vscode-text-area', events: { onChange: 'change', onInput: 'input' } });
export const VSCodeTextField = wrap(vsCodeTextField(), { name: 'vscode-text-field', events: { onChange: 'change', onInput: 'input' } });
