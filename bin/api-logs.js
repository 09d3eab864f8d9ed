#!/usr/bin/env node
'use strict'

// The `api-logs` command: the compiled CLI does the work (docs/cli.md).
require('../dist/cli/main.js').main()
