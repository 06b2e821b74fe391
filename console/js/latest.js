// "Fetch on change, newest answer wins": when loads overlap (a filter changed twice, a drill-down while the
// last one is still loading, a live change during a poll), an older answer that arrives late must never
// replace a newer one.
//
//   const load = latest();
//   const data = await load((signal) => api("/api/v1/decisions", { params, signal }));
//
// Every call to ``load`` starts its fetcher at once and aborts the one still in flight (through the signal it
// was handed). Each caller's promise settles with the answer (or the error) of the newest call there is when
// an answer comes in: a superseded answer is dropped, and whoever was waiting for it gets the newer one. So
// the calls of one ``latest()`` must all ask for the same kind of thing (the same slot on the page).
//
// A change the user made supersedes at once. A background refresh (a timer, a live change) should rather look
// at ``load.pending`` first and wait for the call in flight: refreshes that come faster than the server
// answers would otherwise abort each other and never show anything.
//
// ``load.cancel()`` (a view unmounting) aborts the call in flight and drops its answer: the promises of the
// calls waiting for it never settle, so nothing renders into a page that is gone. Later calls work as usual.

export function latest() {
  let newest = 0;
  let controller = null;
  let waiting = [];  // [resolve, reject] of every call whose answer has not come in yet

  function settle(call, outcome) {
    if (call !== newest) return;  // superseded: a newer call is running and answers everyone
    const callers = waiting;
    waiting = [];
    controller = null;
    for (const [resolve, reject] of callers) {
      if (outcome.ok) resolve(outcome.value); else reject(outcome.error);
    }
  }

  function load(fetcher) {
    const call = ++newest;
    if (controller) controller.abort();
    controller = new AbortController();
    const { signal } = controller;
    return new Promise((resolve, reject) => {
      waiting.push([resolve, reject]);
      Promise.resolve()
        .then(() => fetcher(signal))
        .then((value) => settle(call, { ok: true, value }), (error) => settle(call, { ok: false, error }));
    });
  }

  Object.defineProperty(load, "pending", { get: () => controller !== null });

  load.cancel = () => {
    newest += 1;
    if (controller) controller.abort();
    controller = null;
    waiting = [];
  };

  return load;
}
