/**
 * The Webview UI Toolkit's components for React, each wrapped — and its custom element
 * registered with the VS Code design system — the first time one is drawn. The toolkit's
 * own React entry wraps all nineteen of its components as it loads, tens of milliseconds
 * of the board's first render spent on elements that are drawn only once the cards are
 * painted (the toolbar, the side panels) or never (data grids, radios, tags…). The
 * components, their props and their events are the toolkit's, as its React entry sets them.
 */
import { provideReactWrapper } from '@microsoft/fast-react-wrapper';
import {
  provideVSCodeDesignSystem,
  vsCodeButton,
  vsCodeCheckbox,
  vsCodeDropdown,
  vsCodeOption,
  vsCodePanels,
  vsCodePanelTab,
  vsCodePanelView,
  vsCodeTextArea,
  vsCodeTextField,
} from '@vscode/webview-ui-toolkit';
import type * as Toolkit from '@vscode/webview-ui-toolkit/react';
import React, { createElement, forwardRef } from 'react';

type Wrap = ReturnType<typeof provideReactWrapper>['wrap'];

let wrapper: ReturnType<typeof provideReactWrapper> | undefined;

/** A component that is `make`d (wrapped and registered) when the first of it is rendered. */
function onFirstDraw<C>(make: (wrap: Wrap) => unknown): C {
  let made: React.ElementType | undefined;
  const Drawn = forwardRef<unknown, Record<string, unknown>>((props, ref) => {
    made ??= make((wrapper ??= provideReactWrapper(React, provideVSCodeDesignSystem())).wrap) as React.ElementType;
    return createElement(made, { ...props, ref });
  });
  return Drawn as unknown as C;
}

export const VSCodeButton = onFirstDraw<typeof Toolkit.VSCodeButton>((wrap) => wrap(vsCodeButton(), { name: 'vscode-button' }));
export const VSCodeCheckbox = onFirstDraw<typeof Toolkit.VSCodeCheckbox>((wrap) => wrap(vsCodeCheckbox(), { name: 'vscode-checkbox', events: { onChange: 'change' } }));
export const VSCodeDropdown = onFirstDraw<typeof Toolkit.VSCodeDropdown>((wrap) => wrap(vsCodeDropdown(), { name: 'vscode-dropdown', events: { onChange: 'change' } }));
export const VSCodeOption = onFirstDraw<typeof Toolkit.VSCodeOption>((wrap) => wrap(vsCodeOption(), { name: 'vscode-option' }));
export const VSCodePanels = onFirstDraw<typeof Toolkit.VSCodePanels>((wrap) => wrap(vsCodePanels(), { name: 'vscode-panels', events: { onChange: 'change' } }));
export const VSCodePanelTab = onFirstDraw<typeof Toolkit.VSCodePanelTab>((wrap) => wrap(vsCodePanelTab(), { name: 'vscode-panel-tab' }));
export const VSCodePanelView = onFirstDraw<typeof Toolkit.VSCodePanelView>((wrap) => wrap(vsCodePanelView(), { name: 'vscode-panel-view' }));
export const VSCodeTextArea = onFirstDraw<typeof Toolkit.VSCodeTextArea>((wrap) =>
  wrap(vsCodeTextArea(), { name: 'vscode-text-area', events: { onChange: 'change', onInput: 'input' } }),
);
export const VSCodeTextField = onFirstDraw<typeof Toolkit.VSCodeTextField>((wrap) =>
  wrap(vsCodeTextField(), { name: 'vscode-text-field', events: { onChange: 'change', onInput: 'input' } }),
);
