// fs.js DIR [CANONICAL] - node's fs API on DIR, for test_rawsys: one
// line per call, DIR (and CANONICAL, DIR's /scheme/ form) shown as "D",
// so that a disk directory and a scheme directory can be compared line
// by line.  fs.realpathSync (node's own, in JavaScript) is left out for a
// `name:path` DIR: node's path module takes that for a relative path and
// puts the working directory in front, as it would on any system.
'use strict';
const fs = require('fs');
const d = process.argv[2];
const canon = process.argv[3] || d;
const noJsRealpath = /^[^/]*:/.test(d);
const show = (v) => String(v).split(canon).join('D').split(d).join('D');
function t(name, f) {
  try {
    console.log(name, show(f()));
  } catch (e) {
    console.log(name, 'error', e.code, e.syscall);
  }
}
const mode = (p) => (fs.statSync(p).mode & 0o7777).toString(8);
fs.mkdirSync(d + '/js');
fs.writeFileSync(d + '/js/f', 'hello node\n');
t('statSync', () => { const s = fs.statSync(d + '/js/f'); return [s.size, s.isFile(), s.isDirectory()]; });
t('lstatSync dir', () => fs.lstatSync(d + '/js').isDirectory());
t('statSync missing', () => fs.statSync(d + '/js/nope'));
t('existsSync', () => fs.existsSync(d + '/js/f') + ' ' + fs.existsSync(d + '/js/nope'));
if (!noJsRealpath)
  t('realpathSync', () => fs.realpathSync(d + '/js/f'));
t('realpathSync.native', () => fs.realpathSync.native(d + '/js/f'));
t('utimesSync', () => { fs.utimesSync(d + '/js/f', 1000, 2000); return fs.statSync(d + '/js/f').mtimeMs; });
t('chmodSync', () => { fs.chmodSync(d + '/js/f', 0o600); return mode(d + '/js/f'); });
t('accessSync W', () => fs.accessSync(d + '/js/f', fs.constants.W_OK));
t('copyFileSync', () => { fs.copyFileSync(d + '/js/f', d + '/js/c'); return fs.readFileSync(d + '/js/c', 'utf8').trim(); });
t('cpSync', () => { fs.cpSync(d + '/js/f', d + '/js/g'); return fs.readFileSync(d + '/js/g', 'utf8').trim(); });
t('cpSync recursive', () => { fs.cpSync(d + '/js', d + '/js2', { recursive: true }); return fs.readdirSync(d + '/js2').sort().join(' '); });
t('readdirSync withFileTypes', () => fs.readdirSync(d + '/js', { withFileTypes: true })
  .map((e) => e.name + (e.isFile() ? ':file' : e.isDirectory() ? ':dir' : ':other')).sort().join(' '));
t('renameSync', () => { fs.renameSync(d + '/js/c', d + '/js/r'); return fs.existsSync(d + '/js/c') + ' ' + fs.existsSync(d + '/js/r'); });
t('rmSync recursive', () => { fs.rmSync(d + '/js2', { recursive: true }); return fs.existsSync(d + '/js2'); });
(async () => {
  const p = fs.promises;
  const s = await p.stat(d + '/js/f');
  console.log('promises.stat', s.size, s.isFile());
  await p.utimes(d + '/js/f', 3000, 4000);
  console.log('promises.utimes', (await p.lstat(d + '/js/f')).mtimeMs);
  await p.chmod(d + '/js/f', 0o640);
  console.log('promises.chmod', mode(d + '/js/f'));
  console.log('promises.readdir', (await p.readdir(d + '/js')).sort().join(' '));
  await p.rm(d + '/js/g');
  console.log('promises.rm', fs.existsSync(d + '/js/g'));
  await p.rm(d + '/js', { recursive: true });
  console.log('promises.rm recursive', fs.existsSync(d + '/js'));
})().catch((e) => console.log('promises error', e.code, e.syscall));
