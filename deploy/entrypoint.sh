#!/bin/sh
# Put the shared master key (and audit signing key, if given) where Candor reads them, mode
# 0600, then run the command (candor serve, candor worker, ...).
set -eu
if [ -n "${CANDOR_MASTER_KEY_FILE:-}" ]; then
    install -m 600 "$CANDOR_MASTER_KEY_FILE" "$CANDOR_DATA_DIR/master.key"
fi
if [ -n "${CANDOR_AUDIT_SIGNING_KEY_FILE:-}" ]; then
    install -m 600 "$CANDOR_AUDIT_SIGNING_KEY_FILE" "$CANDOR_DATA_DIR/audit-signing.key"
fi
exec "$@"
