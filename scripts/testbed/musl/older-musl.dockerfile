# The older-musl base: Debian 12's musl 1.2.3 (the musl of Alpine 3.17 and older) in place of
# Debian 13's, before anything is compiled against it. Pinned: a mirror that lacks the version
# fails here, naming it.
RUN echo "deb http://deb.debian.org/debian bookworm main" > /etc/apt/sources.list.d/bookworm.list; \
    apt-get update -qq; \
    apt-get install -y -qq --allow-downgrades musl=1.2.3-1 musl-dev=1.2.3-1 musl-tools=1.2.3-1 >/dev/null \
      || { echo "the older-musl base needs musl 1.2.3-1 from bookworm, which did not install" >&2; exit 1; }; \
    rm /etc/apt/sources.list.d/bookworm.list; apt-get update -qq; \
    test "$(dpkg-query -W -f '${Version}' musl)" = 1.2.3-1
# Its CPython is built -O2 without PGO or LTO (the Dockerfile's CPYTHON_OPTIMISED): the base is for
# loader features, which compiler flags do not change, and a second profile run and LTO link would
# lengthen the test bed's cold build, which CI's budget has to hold, by half an hour. Its run times
# are not those of an optimised build: compare run times against the musl 1.2.5 base.
ENV CPYTHON_OPTIMISED=0
