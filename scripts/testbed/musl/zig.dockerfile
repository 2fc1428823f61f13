# The musl base with a C and C++ toolchain: Zig's static compiler (clang with musl's headers and
# crt built in), from the `ziglang` wheel on the package index, behind `cc`, `c++`, `ar` and
# `ranlib` wrappers.
# No network at build time: the wheel is in the build context. Zig ships no Fortran compiler and
# no OpenMP runtime, so what needs either still cannot be built here.
ARG MUSL_BASE
FROM ${MUSL_BASE}
ARG ZIG_WHEEL
COPY ${ZIG_WHEEL} /tmp/
COPY zig-cc zig-c++ zig-ar zig-ranlib /usr/local/bin/
# pip's isolated build environments hide this installation's modules (`python -m ziglang` fails
# there), so the wrappers call the `zig` binary directly.
RUN python3 -m pip install -q --no-index --no-compile --disable-pip-version-check --root-user-action=ignore \
      --target /opt/zig /tmp/${ZIG_WHEEL} && rm /tmp/${ZIG_WHEEL} && \
    ln -s zig-cc /usr/local/bin/cc && ln -s zig-c++ /usr/local/bin/c++ && \
    ln -s zig-ar /usr/local/bin/ar && ln -s zig-ranlib /usr/local/bin/ranlib && \
    chmod 755 /usr/local/bin/zig-cc /usr/local/bin/zig-c++ /usr/local/bin/zig-ar /usr/local/bin/zig-ranlib
# CC/CXX override the CPython build's own compiler (recorded in sysconfig, absent from the
# image); setuptools derives LDSHARED from CC. Zig compiles musl's crt and libc++ on first use:
# done once here, into a cache every user may write to, so builds do not each pay for it.
# AR by path: build tools run `ar` through /bin/sh, and busybox's shell runs its own `ar` applet
# (extract and list only) for a bare name, whatever PATH says.
ENV CC=cc CXX=c++ AR=/usr/local/bin/ar ZIG_GLOBAL_CACHE_DIR=/opt/zig-cache
RUN mkdir -p /opt/zig-cache && cd /tmp && \
    printf '#include <stdio.h>\nint main(void){puts("cc ok");return 0;}\n' >t.c && cc -o t t.c && ./t && \
    printf '#include <iostream>\nint main(){std::cout<<"c++ ok"<<std::endl;}\n' >t.cc && c++ -o t t.cc && ./t && \
    printf 'int f(void){return 1;}\n' >s.c && cc -shared -fPIC -o s.so s.c && \
    cc -c -fPIC -o s.o s.c && /usr/local/bin/ar rcs s.a s.o && /usr/local/bin/ranlib s.a && \
    rm -f t t.c t.cc s.c s.so s.o s.a && chmod -R a+rwX /opt/zig-cache
ARG RECIPE
ARG ZIG_VERSION
LABEL io.muslcheck.testbed.recipe=${RECIPE} io.muslcheck.testbed.compiler="zig ${ZIG_VERSION} (cc, c++)"
