//! Running jobs in parallel within cargo's jobserver: never more nvcc processes than
//! tokens (`cargo build -j1` means one at a time), jobs started in the order given
//! (longest first is the caller's choice).

use std::io;
use std::sync::mpsc;

use jobserver::{Acquired, Client};

/// Where tokens come from: cargo's jobserver, or a private one of `limit` slots.
pub(crate) fn client(num_jobs: Option<usize>) -> Option<Client> {
    // SAFETY: called from a build script, where cargo passes the jobserver's file
    // descriptors in CARGO_MAKEFLAGS and nothing else in the process has closed them.
    #[allow(unsafe_code)]
    let inherited = unsafe { Client::from_env() };
    if inherited.is_some() {
        return inherited;
    }
    let limit = num_jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    // Our own process holds one implicit token; the client hands out the rest.
    if limit > 1 {
        Client::new(limit - 1).ok()
    } else {
        None
    }
}

enum Event<R> {
    Token(io::Result<Acquired>),
    Done(usize, R, Option<Acquired>),
}

/// Runs `work` on every job, at most one job per held token (the implicit one included),
/// starting them in slice order. Results come back in slice order.
pub(crate) fn run<J: Sync, R: Send + 'static>(
    jobs: &[J],
    client: Option<Client>,
    work: &(dyn Fn(&J) -> R + Sync),
) -> Vec<R> {
    let n = jobs.len();
    let mut results: Vec<Option<R>> = (0..n).map(|_| None).collect();
    let (tx, rx) = mpsc::channel::<Event<R>>();
    let helper = client.and_then(|c| {
        let tx = tx.clone();
        c.into_helper_thread(move |token| {
            let _ = tx.send(Event::Token(token));
        })
        .ok()
    });
    std::thread::scope(|scope| {
        let mut next = 0;
        let mut running = 0;
        let mut implicit_free = true;
        let mut requested = 0usize;
        let start = |i: usize, token: Option<Acquired>, running: &mut usize| {
            let tx = tx.clone();
            let job = &jobs[i];
            *running += 1;
            scope.spawn(move || {
                let r = work(job);
                let _ = tx.send(Event::Done(i, r, token));
            });
        };
        loop {
            if next < n && implicit_free {
                implicit_free = false;
                start(next, None, &mut running);
                next += 1;
            }
            if let Some(h) = &helper {
                while requested < n - next {
                    h.request_token();
                    requested += 1;
                }
            }
            if running == 0 && next >= n {
                break;
            }
            match rx.recv() {
                Ok(Event::Token(token)) => {
                    requested = requested.saturating_sub(1);
                    if let (Ok(token), true) = (token, next < n) {
                        start(next, Some(token), &mut running);
                        next += 1;
                    }
                }
                Ok(Event::Done(i, r, token)) => {
                    results[i] = Some(r);
                    running -= 1;
                    match token {
                        Some(t) => drop(t),
                        None => implicit_free = true,
                    }
                }
                Err(_) => break,
            }
        }
    });
    // Dropping the helper cancels pending requests; tokens still queued in the channel
    // are released when it drops.
    drop(helper);
    results.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    fn max_concurrency(limit: usize, jobs: usize) -> (usize, Vec<usize>) {
        let now = AtomicUsize::new(0);
        let max = AtomicUsize::new(0);
        let client = if limit > 1 { Client::new(limit - 1).ok() } else { None };
        let ids: Vec<usize> = (0..jobs).collect();
        let out = run(&ids, client, &|&i| {
            let c = now.fetch_add(1, Ordering::SeqCst) + 1;
            max.fetch_max(c, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(30));
            now.fetch_sub(1, Ordering::SeqCst);
            i * 10
        });
        (max.load(Ordering::SeqCst), out)
    }

    #[test]
    fn never_more_than_the_tokens_and_results_in_order() {
        let (max, out) = max_concurrency(1, 5);
        assert_eq!(max, 1);
        assert_eq!(out, [0, 10, 20, 30, 40]);
        let (max, out) = max_concurrency(3, 9);
        assert!((2..=3).contains(&max), "{max}");
        assert_eq!(out.len(), 9);
        assert_eq!(run::<usize, usize>(&[], None, &|&i| i), Vec::<usize>::new());
    }
}
