#!/usr/bin/env bash
# Builds hostile git repositories under DIR, one per attack, for
# bench/hostile.sh and the hostile-repository test:
#   symlinks      symlinks out of the tree (/etc/passwd, /, ../..)
#   huge-file     one HUGE_MB MiB file (zeros: small pack, big checkout)
#   many-files    FILES tiny files in one commit (git fast-import, no work tree)
#   binary-blobs  binary content under source-code names
#   bad-names     file names that are not valid UTF-8
#   hooks         hooks planted in the source repo and hook-like files in
#                 the tree; each would create DIR/PWNED-<name> if run
#   submodule     a submodule whose URL is a local path on this host
# A clone that never finishes needs a server, not a repository: see
# bench/hostile/stall.py.
#
# usage: bench/hostile/make-repos.sh DIR   (env: HUGE_MB=200 FILES=1000000)
set -euo pipefail
out="${1:?usage: make-repos.sh DIR}"
huge_mb="${HUGE_MB:-200}"
files="${FILES:-1000000}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
export GIT_AUTHOR_NAME=hostile GIT_AUTHOR_EMAIL=hostile@example.invalid
export GIT_COMMITTER_NAME=hostile GIT_COMMITTER_EMAIL=hostile@example.invalid
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1

fresh() {
  rm -rf "$out/$1"
  git init -q -b main "$out/$1"
  cd "$out/$1"
  printf '# %s\n' "$1" > README.md
}
commit() { git add -A && git -c core.hooksPath=/dev/null commit -q -m "$1"; }

fresh symlinks
ln -s /etc/passwd passwd.py
ln -s / root
ln -s ../../../../../../etc/shadow settings.py
mkdir -p app && ln -s ../../../../../../../root app/home
commit "symlinks out of the tree"

fresh huge-file
head -c "$((huge_mb * 1024 * 1024))" /dev/zero > data.bin
commit "a huge file"

fresh many-files
{
  echo "blob"; echo "mark :1"; echo "data 2"; echo "x"
  echo "commit refs/heads/main"
  echo "committer hostile <hostile@example.invalid> 1700000000 +0000"
  echo "data 10"; echo "many files"
  awk -v n="$files" 'BEGIN { for (i = 0; i < n; i++) printf "M 100644 :1 d%04d/f%07d.py\n", i % 1000, i }'
} | git fast-import --quiet

fresh binary-blobs
for name in app.py main.go server.ts Dockerfile config.yaml; do
  head -c 2097152 /dev/urandom > "$name"
done
printf 'import os\x00\x01\x02SECRET_KEY = "x"\xff\xfe\n' > mixed.py
commit "binary blobs"

fresh bad-names
printf 'DEBUG = True\n' > "$(printf 'bad-\xff\xfe-name.py')"
printf 'x = 1\n' > "$(printf 'caf\xe9.py')"
mkdir -p "$(printf 'dir-\xc3\x28')" && printf 'y = 2\n' > "$(printf 'dir-\xc3\x28/mod.py')"
commit "invalid UTF-8 names"

fresh hooks
hook() { printf '#!/bin/sh\ntouch %s/PWNED-%s\n' "$out" "$1"; }
for h in post-checkout post-merge pre-commit post-commit reference-transaction pre-push post-rewrite; do
  hook "$h" > ".git/hooks/$h"; chmod +x ".git/hooks/$h"
done
mkdir -p .husky .githooks
hook husky > .husky/post-checkout && chmod +x .husky/post-checkout
hook githooks > .githooks/post-checkout && chmod +x .githooks/post-checkout
printf '* filter=evil\n' > .gitattributes
git config filter.evil.smudge "touch $out/PWNED-filter; cat"
git config core.fsmonitor "$out/.git-fsmonitor"
hook fsmonitor > "$out/.git-fsmonitor" && chmod +x "$out/.git-fsmonitor"
commit "hooks everywhere"
rm -f "$out"/PWNED-*  # committing here ran some of them on purpose: start clean

fresh submodule
git -c protocol.file.allow=always submodule add -q "$out/symlinks" vendor/local >/dev/null 2>&1 \
  || { mkdir -p vendor && git update-index --add --cacheinfo 160000 "$(git -C "$out/symlinks" rev-parse HEAD)" vendor/local \
       && printf '[submodule "vendor/local"]\n\tpath = vendor/local\n\turl = %s\n' "$out/symlinks" > .gitmodules; }
printf '[submodule "etc"]\n\tpath = etc\n\turl = /etc\n' >> .gitmodules
commit "a submodule pointing at local paths"

echo "hostile repositories in $out: symlinks huge-file many-files binary-blobs bad-names hooks submodule"
