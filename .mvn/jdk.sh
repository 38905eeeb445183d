# shellcheck shell=sh
# Locates a JDK >= 25 for the build (sourced by ./mvnw) and for the launcher (./gvt).
# Order: $JAVA_HOME, `java` on the PATH, then the usual JDK install directories.
# On success JAVA_HOME is exported; otherwise one line says what to install and the caller exits.

jgvt_jdk_major() {
  # prints the feature version of the JDK at $1, or nothing
  [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] || return 0
  if [ -r "$1/release" ]; then
    sed -n 's/^JAVA_VERSION="\{0,1\}\([0-9]*\).*/\1/p' "$1/release" | head -n 1
  else
    "$1/bin/java" -XshowSettings:properties -version 2>&1 \
      | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n 1
  fi
}

jgvt_find_jdk() {
  jgvt_need=25
  # callers may run with globbing off (mvnw uses `set -f`); the directory scan needs it
  case $- in *f*) jgvt_noglob=1; set +f ;; *) jgvt_noglob= ;; esac
  for jgvt_cand in "${JAVA_HOME-}" \
      "$(command -v java >/dev/null 2>&1 && dirname "$(dirname "$(readlink -f "$(command -v java)")")")" \
      /usr/lib/jvm/* /usr/java/* /opt/java/* /opt/jdk* /usr/local/lib/jvm/* \
      "${HOME:-/nonexistent}"/.sdkman/candidates/java/* "${HOME:-/nonexistent}"/.jdks/* \
      /Library/Java/JavaVirtualMachines/*/Contents/Home; do
    [ -n "$jgvt_cand" ] && [ -d "$jgvt_cand" ] || continue
    jgvt_major=$(jgvt_jdk_major "$jgvt_cand")
    if [ -n "$jgvt_major" ] && [ "$jgvt_major" -ge "$jgvt_need" ] 2>/dev/null; then
      JAVA_HOME=$(cd "$jgvt_cand" && pwd -P)
      export JAVA_HOME
      [ -z "$jgvt_noglob" ] || set -f
      return 0
    fi
  done
  [ -z "$jgvt_noglob" ] || set -f
  echo "jgvt needs a JDK 25 or newer: install one (for example Temurin 25 or openjdk-25-jdk) or point JAVA_HOME at it." >&2
  return 1
}
