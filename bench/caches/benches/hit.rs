//! A verified-token cache hit, the per-request cost the cache adds: one hot token (a load test), a
//! working set of 10,000 tokens, and a miss. Tokens are 738 bytes, as the load target's.

use std::hint::black_box;
use std::sync::Arc;

use cache_choice::{Moka, Papaya, Quick, Slots, TokenCache};
use criterion::{Criterion, criterion_group, criterion_main};

const TOKENS: usize = 10_000;

fn tokens() -> Vec<String> {
    (0..TOKENS)
        .map(|i| {
            let mut token = format!("eyJhbGciOiJSUzI1NiJ9.{i:08}.");
            while token.len() < 738 {
                token.push(char::from(b'A' + (token.len() * 7 % 26) as u8));
            }
            token
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let tokens = tokens();
    let caches: Vec<(&str, Box<dyn TokenCache<u64> + Sync>)> = vec![
        ("moka", Box::new(Moka::new(2 * TOKENS as u64))),
        ("quick_cache", Box::new(Quick::new(2 * TOKENS))),
        ("papaya", Box::new(Papaya::new(2 * TOKENS))),
        // Sized at four slots per token, so collisions overwrite only a handful of the 10,000.
        ("slots", Box::new(Slots::new(4 * TOKENS))),
    ];
    for (_, cache) in &caches {
        for (i, token) in tokens.iter().enumerate() {
            cache.insert(token, Arc::new(i as u64));
        }
        cache.settle();
    }
    let mut group = c.benchmark_group("hit");
    for (name, cache) in &caches {
        let hot = &tokens[TOKENS / 2];
        group.bench_function(format!("{name}/one_token"), |b| {
            b.iter(|| cache.get(black_box(hot)))
        });
        let mut i = 0;
        group.bench_function(format!("{name}/10k_tokens"), |b| {
            b.iter(|| {
                i = (i + 7919) % TOKENS;
                cache.get(black_box(&tokens[i]))
            })
        });
        // Two threads on the same hot token, as two workers serving one client: what sharing the
        // entry (and any lock word) between cores costs. Time per get, wall clock, the two
        // threads' start included. Run it unpinned, or both threads share one core.
        group.bench_function(format!("{name}/one_token_two_threads"), |b| {
            b.iter_custom(|iters| {
                let started = std::time::Instant::now();
                std::thread::scope(|scope| {
                    for _ in 0..2 {
                        scope.spawn(|| {
                            for _ in 0..iters {
                                black_box(cache.get(black_box(hot)));
                            }
                        });
                    }
                });
                started.elapsed()
            })
        });
        let absent = tokens[0].replace("00000000", "99999999");
        group.bench_function(format!("{name}/miss"), |b| {
            b.iter(|| cache.get(black_box(&absent)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
