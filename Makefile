# omx: remote memory for Linux over plain Ethernet (OmniXtend).
#
#   make demo    set everything up, boot VMs and show omx at work
#   make check   set everything up and run all tests (ends with "N passed, M failed"),
#                the swap test also on the debug kernel
#   make soak    swap on a mirrored device under injected faults for SOAK_MINUTES (30)
#   make bench   omx against nbd, NVMe/TCP, zram, brd and a disk: fio, link, swap workloads
#   make install the module, omxctl, omx-node, man pages, completions, the unit and docs, as a
#                package would (DESTDIR, PREFIX=/usr/local; KDIR= a Rust-enabled 6.12 kernel
#                build tree, default the guest kernel); make uninstall removes them
#
# Both install what is missing (Debian packages, bindgen), build the guest kernel into a cache
# outside the repo (~/.cache/omx; OMX_CACHE overrides), the module and the userspace tools.
# KERNEL_VARIANT=debug selects the KASAN/lockdep guest kernel.

export KERNEL_VARIANT ?= normal

.PHONY: all demo check soak bench deps kernel module userspace test clean install uninstall

all: module userspace

deps:
	@bash scripts/deps.sh

kernel: deps
	@bash scripts/build-kernel.sh >/dev/null

# With KDIR (a user's own Rust-enabled 6.12 build tree), the guest kernel is not built.
module: $(if $(KDIR),deps,kernel)
	@bash scripts/build-module.sh

userspace: deps
	@cargo build --workspace --release --quiet

demo: module userspace
	@bash scripts/demo.sh

# make check also runs the swap-integrity test on the debug kernel (KASAN, lockdep, kmemleak),
# unless TESTS picks tests; DEBUG_TESTS=PATTERN picks others, DEBUG_TESTS= none.
DEBUG_TESTS ?= $(if $(TESTS),,^50-swap)

check: module userspace
	@DEBUG_TESTS='$(DEBUG_TESTS)' bash scripts/run-tests.sh '$(TESTS)'

soak: module userspace
	@bash scripts/soak.sh

bench: module userspace
	@bash scripts/bench.sh

install: module userspace
	@bash scripts/install.sh install

uninstall:
	@bash scripts/install.sh uninstall

clean:
	@rm -f omx_mod.ko omx_mod.o omx_mod.mod omx_mod.mod.c omx_mod.mod.o Module.symvers modules.order
	@find omx_mod -name '*.o' -o -name '.*.cmd' -o -name '*_generated.rs' | xargs rm -f
	@rm -f .*.cmd
	@cargo clean --quiet
