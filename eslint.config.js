'use strict'

// neostandard (standard's style for ESLint 9 flat config), TypeScript included.
const neostandard = require('neostandard')

module.exports = [
  ...neostandard({
    ts: true,
    ignores: [...neostandard.resolveIgnoresFromGitignore(), 'benchmarks/results.json']
  }),
  {
    rules: {
      // Matching control characters is this package's job: they are escaped so that every record
      // stays on one line and cannot drive a terminal (docs/security.md).
      'no-control-regex': 'off'
    }
  }
]
