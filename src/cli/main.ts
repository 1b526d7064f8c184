#!/usr/bin/env node
/** The `trellis` command (bin). Exit codes: 0 success, 1 the work failed, 2 bad usage or no connection. */
import { runProgram } from './program.js';

await runProgram(process.argv);
