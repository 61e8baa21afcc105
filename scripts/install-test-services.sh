#!/usr/bin/env bash
# Installs the services the contrib storage tests start themselves:
#   - Debian's openssh-server (sshd, for tests/contrib/test_ssh.py; the OpenSSH client comes with it)
#   - Azurite, Microsoft's Azure Storage emulator, from npm (tests/contrib/test_azureblob.py)
# Only what is missing is installed, and only when run as root; otherwise it says what to install.
set -euo pipefail

need_root() {
    if [ "$(id -u)" -ne 0 ]; then
        echo "install-test-services: not root; install $1 yourself ($2)" >&2
        return 1
    fi
}

if ! [ -x /usr/sbin/sshd ] || ! command -v ssh >/dev/null 2>&1; then
    if need_root openssh-server "apt-get install openssh-server"; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssh-server openssh-client >/dev/null
        # The tests run their own sshd with their own config; the system one need not run.
        echo "install-test-services: installed openssh-server"
    fi
fi

if ! command -v azurite-blob >/dev/null 2>&1; then
    if ! command -v npm >/dev/null 2>&1; then
        echo "install-test-services: npm not found; Azure Blob tests will be skipped" >&2
    elif need_root azurite "npm install -g azurite"; then
        npm install -g --silent azurite >/dev/null
        echo "install-test-services: installed azurite"
    fi
fi
