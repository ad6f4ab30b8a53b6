import * as assert from 'node:assert/strict';
import { chmodSync, mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { baseEnvironment, isGuardedVariable } from '../../src/core/programs/environment';
import { resolveProgram } from '../../src/core/programs/resolve';
import { scratchDir } from './nodeContext';

describe('programs: the environment and where programs are found', () => {
  it('passes PATH, HOME, LANG, LC_*, the temporary folder, TERM and USER on — nothing else', () => {
    const start = { PATH: '/bin', HOME: '/h', LANG: 'C', LC_ALL: 'C', TMPDIR: '/t', TERM: 'xterm', USER: 'u', GITHUB_TOKEN: 'x', AWS_SECRET_ACCESS_KEY: 'y', SystemRoot: 'C:\\Windows' };
    assert.deepEqual(baseEnvironment(start, 'linux'), { PATH: '/bin', HOME: '/h', LANG: 'C', LC_ALL: 'C', TMPDIR: '/t', TERM: 'xterm', USER: 'u' });
    // Windows: names without case, and what programs there cannot start without.
    assert.deepEqual(baseEnvironment({ Path: 'C:\\bin', SYSTEMROOT: 'C:\\Windows', ComSpec: 'cmd.exe', GITHUB_TOKEN: 'x' }, 'win32'), { Path: 'C:\\bin', SYSTEMROOT: 'C:\\Windows', ComSpec: 'cmd.exe' });
  });

  it('guards the variables that decide which program runs or what it loads, whatever their case', () => {
    for (const name of ['PATH', 'Path', 'PATHEXT', 'ComSpec', 'NODE_OPTIONS', 'BASH_ENV', 'LD_PRELOAD', 'LD_LIBRARY_PATH', 'LD_AUDIT', 'DYLD_INSERT_LIBRARIES']) assert.equal(isGuardedVariable(name), true, name);
    for (const name of ['HOME', 'CI', 'NODE_ENV', 'TOKEN', 'OLD_PATH']) assert.equal(isGuardedVariable(name), false, name);
  });

  it('finds a bare name on absolute PATH entries only; a name with a slash in the working folder', async () => {
    const root = realpathSync(scratchDir());
    for (const dir of ['bin', 'cwd/bin']) {
      mkdirSync(join(root, dir), { recursive: true });
      writeFileSync(join(root, dir, 'tool'), '#!/bin/sh\n');
      chmodSync(join(root, dir, 'tool'), 0o755);
    }
    writeFileSync(join(root, 'bin', 'plain'), 'not executable');
    const cwd = join(root, 'cwd');
    const search = (path: string | undefined) => ({ path, platform: 'linux' as const });
    assert.equal(await resolveProgram('tool', cwd, search(`/nonexistent:${join(root, 'bin')}`)), join(root, 'bin', 'tool'));
    // An empty or relative entry would be the working folder — the workspace, where a melody plants files.
    assert.equal(await resolveProgram('tool', cwd, search(':bin:./bin')), undefined);
    assert.equal(await resolveProgram('plain', cwd, search(join(root, 'bin'))), undefined, 'a file that is not executable is not a program');
    assert.equal(await resolveProgram('./bin/tool', cwd, search(undefined)), join(cwd, 'bin', 'tool'));
    assert.match((await resolveProgram('sh', cwd, search(undefined)))!, /^\/(usr\/)?bin\/sh$/, 'no PATH: /usr/bin:/bin, as execvp');
  });
});
