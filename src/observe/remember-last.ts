// A one-entry memo for a pure function whose argument mostly repeats from one request to the next
// (the millisecond a request arrived, the client's key, its User-Agent): a repeat returns the
// same string instead of building it again, so completing a record makes no garbage for it.

export function rememberLast<A, R>(fn: (arg: A) => R): (arg: A) => R {
  let seen = false;
  let lastArg: A;
  let lastOut: R;
  return (arg) => {
    if (!seen || arg !== lastArg) {
      lastOut = fn(arg);
      lastArg = arg;
      seen = true;
    }
    return lastOut;
  };
}
