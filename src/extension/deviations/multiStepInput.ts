import * as vscode from 'vscode';

/** One question of a multi-step input. */
export type Step =
  | {
      readonly kind: 'pick';
      readonly title: string;
      readonly placeholder: string;
      readonly items: readonly { readonly label: string; readonly description?: string; readonly value: string }[];
      /** The value selected first. */
      readonly value?: string;
    }
  | {
      readonly kind: 'input';
      readonly title: string;
      readonly prompt: string;
      readonly value?: string;
      /** A message when the value cannot be accepted. */
      readonly validate?: (value: string) => string | undefined;
    };

const BACK = Symbol('back');

/**
 * A sequence of quick picks and input boxes with a step counter and a Back button, as in
 * VS Code's multi-step input sample. Answers survive going back and forth.
 */
export class MultiStepInput {
  /** The input on screen, if any (integration tests type into it). */
  current: vscode.QuickPick<vscode.QuickPickItem & { value: string }> | vscode.InputBox | undefined;

  /** Asks every step in turn; resolves to the answers, or undefined when the user cancels. */
  async run(steps: readonly Step[]): Promise<string[] | undefined> {
    const answers: (string | undefined)[] = steps.map((s) => s.value);
    for (let i = 0; i < steps.length; ) {
      const answer = await this.ask(steps[i]!, i, steps.length, answers[i]);
      if (answer === undefined) return undefined;
      if (answer === BACK) {
        i = Math.max(0, i - 1);
        continue;
      }
      answers[i++] = answer;
    }
    return answers as string[];
  }

  private ask(step: Step, index: number, total: number, value: string | undefined): Promise<string | typeof BACK | undefined> {
    return new Promise((resolve) => {
      const box = step.kind === 'pick' ? vscode.window.createQuickPick<vscode.QuickPickItem & { value: string }>() : vscode.window.createInputBox();
      let done = false;
      const finish = (answer: string | typeof BACK | undefined) => {
        if (done) return;
        done = true;
        if (this.current === box) this.current = undefined;
        box.dispose();
        resolve(answer);
      };
      box.title = step.title;
      box.step = index + 1;
      box.totalSteps = total;
      box.ignoreFocusOut = true;
      box.buttons = index > 0 ? [vscode.QuickInputButtons.Back] : [];
      box.onDidTriggerButton((b) => b === vscode.QuickInputButtons.Back && finish(BACK));
      box.onDidHide(() => finish(undefined));
      if (step.kind === 'pick') {
        const pick = box as vscode.QuickPick<vscode.QuickPickItem & { value: string }>;
        pick.placeholder = step.placeholder;
        pick.items = step.items.map((i) => ({ ...i }));
        pick.activeItems = pick.items.filter((i) => i.value === value);
        pick.onDidAccept(() => {
          const chosen = pick.selectedItems[0] ?? pick.activeItems[0];
          if (chosen) finish(chosen.value);
        });
      } else {
        const input = box as vscode.InputBox;
        input.prompt = step.prompt;
        input.value = value ?? '';
        input.onDidChangeValue((v) => (input.validationMessage = step.validate?.(v)));
        input.onDidAccept(() => {
          const problem = step.validate?.(input.value);
          input.validationMessage = problem;
          if (!problem) finish(input.value);
        });
      }
      this.current = box;
      box.show();
    });
  }
}
