// The port a `ctxmgr serve` started with `listen: "127.0.0.1:0"` took, read from its log line
// "listening on http://HOST:PORT with N thread(s)". A port picked by the test and handed over
// could be taken meanwhile by a server of a test running beside it (ctest -j2), which the test
// would then talk to; port 0 leaves the choice to the kernel and cannot collide.

export function listeningPort(child, timeoutMs = 20000) {
  return new Promise((resolve, reject) => {
    let log = "";
    const timer = setTimeout(() => done(new Error(`no "listening on" line in ${timeoutMs} ms:\n${log}`)), timeoutMs);
    const onData = d => {
      log += d;
      const m = /listening on http:\/\/\S*:(\d+) with /.exec(log);
      if (m) done(null, Number(m[1]));
    };
    const onExit = code => done(new Error(`ctxmgr serve exited (${code}) before listening:\n${log}`));
    function done(err, port) {
      clearTimeout(timer);
      child.stderr.off("data", onData);
      child.off("exit", onExit);
      if (err) reject(err); else resolve(port);
    }
    child.stderr.on("data", onData);
    child.on("exit", onExit);
  });
}
