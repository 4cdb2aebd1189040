#!/usr/bin/env bash
# The tests, once scripts/with-engine.sh has set things up: type check, lint (with
# Pulumi's rules against Outputs in template literals), formatting (prettier), unit tests
# (mocks), integration tests (real engine, test hosts).
set -euo pipefail
tsc --noEmit -p .
eslint .
prettier --check .
mocha 'config/**/*.test.ts' 'components/**/*.test.ts' 'machinery/**/*.test.ts' 'review/**/*.test.ts' 'bench/**/*.test.ts' 'tests/integration/**/*.test.ts'
