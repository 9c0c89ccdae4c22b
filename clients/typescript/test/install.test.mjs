// The package as a user gets it: `npm pack` (which builds it), then installed offline into an
// empty project and imported by its published names.

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const pkg = fileURLToPath(new URL("..", import.meta.url));

test("npm pack, npm install offline, import @ctxmgr/client", () => {
  const dir = mkdtempSync(join(tmpdir(), "ctxmgr-tsinstall-"));
  try {
    const out = execFileSync("npm", ["pack", "--silent", "--pack-destination", dir], { cwd: pkg }).toString().trim();
    const tarball = join(dir, out.split("\n").pop());
    const app = join(dir, "app");
    execFileSync("mkdir", [app]);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
    execFileSync("npm", ["install", "--offline", "--no-audit", "--no-fund", "--silent", tarball], { cwd: app });
    const names = execFileSync("node", ["--input-type=module", "-e",
      "import * as m from '@ctxmgr/client'; console.log(Object.keys(m).sort().join(','))"], { cwd: app }).toString();
    for (const name of ["Client", "CtxmgrError", "OPERATIONS", "memoryToolHandlers"]) assert.match(names, new RegExp(`\\b${name}\\b`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
