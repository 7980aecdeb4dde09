#!/usr/bin/env node
// Usage: node decode-jwt.mjs <jwt>   (or pipe it on stdin)
// Prints {"header":...,"payload":...} without verifying the signature.
import * as fs from 'node:fs';

const jwt = (process.argv[2] ?? fs.readFileSync(0, 'utf8')).trim();
const [h, p] = jwt.split('.');
const dec = (s) => JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
process.stdout.write(`${JSON.stringify({ header: dec(h), payload: dec(p) }, null, 2)}\n`);
