#!/usr/bin/env python3
# The pool VM's control server for `make bench` (bench/guest/pool.sh starts it): the client VM
# sends one command per TCP connection (bash's /dev/tcp) and reads the answer. Blocking in
# accept() costs the pool VM no CPU between commands, unlike polling files over 9p.
#   stat      -> /proc/uptime, /proc/stat, /proc/net/dev and every /proc/PID/stat (the pool VM's CPU time,
#                interface counters and CPU time per process, for per-test accounting)
#   ps        -> CPU time per process (where the pool's CPU went)
#   jumbo     -> eth0 to MTU 9000 and a new pool on it (the old region is dropped)
#   macsec    -> macsec0 over eth0 (tests/vm/guest/macsec-up.sh) and a new pool on it
#   plain     -> macsec0 removed, a new pool on eth0
#   nodestats -> the pool's JSON counters (frames_tx, retransmits, timeouts, ...)
# The pool is omx-node (POOL=node; the command line is this script's arguments) or a lending
# of omx_mod's in-kernel pool node to the client VM (POOL=kernel, `omxctl lend add`).
#   pktgen MAC BYTES SECS -> "ok", then frames of BYTES to MAC for SECS seconds (pktgen.sh)
#   rxrate SKIP SECS      -> what eth0 received in SECS seconds after SKIP, as JSON (pktgen.sh)
#   quit      -> stop serving (pool.sh then stops the daemons)
# Also stops when /mnt/shared/done appears (the client died without saying quit).
import json
import os
import socket
import subprocess
import sys
import time

ADDR = sys.argv[1]
PORT = 7777
SHARED = "/mnt/shared"
NODE_CMD = sys.argv[2:]  # the omx-node command line (restarted by "jumbo")
PIDFILE = "/run/omx-node.pid"


CLIENT_MAC = "52:54:00:0a:aa:01"  # VM 1's (tests/vm/lib.sh vm_mac)


class Daemon:
    """omx-node on an interface."""

    def __init__(self, iface="eth0"):
        self.p = subprocess.Popen([iface if a == "eth0" else a for a in NODE_CMD])
        open(PIDFILE, "w").write(str(self.p.pid))

    def stop(self):
        self.p.terminate()
        self.p.wait()

    def stats(self):
        # SIGUSR1: omx-node writes its --stats-file to a new file it renames over the old
        # one, so a new inode says the counters are there (wait at most 1 s).
        f = "/run/omx-node-stats.json"
        before = os.stat(f).st_ino if os.path.exists(f) else None
        self.p.send_signal(10)  # SIGUSR1
        for _ in range(100):
            time.sleep(0.01)
            if os.path.exists(f) and os.stat(f).st_ino != before:
                break
        return open(f).read()


class Lending:
    """omx_mod's in-kernel pool node: memory lent to the client VM on an interface."""

    OMXCTL = os.path.join(os.environ.get("TOOLS", ""), "omxctl")

    def __init__(self, iface="eth0"):
        size = os.environ.get("OMX_MB", "") + "M"
        out = subprocess.run([self.OMXCTL, "lend", "add", iface, CLIENT_MAC, "--size", size],
                             check=True, capture_output=True, text=True).stdout
        self.id = out.strip()

    def stop(self):
        subprocess.run([self.OMXCTL, "lend", "del", self.id], check=True)

    def stats(self):
        """The lending's counters under the names omx-node's stats file uses."""
        out = subprocess.run([self.OMXCTL, "-j", "lend", "show", self.id], check=True,
                             capture_output=True, text=True).stdout
        s = json.loads(out).get("stats") or {}
        return json.dumps({"frames_tx": s.get("tx_frames", 0), "frames_rx": s.get("rx_frames", 0),
                           "retransmits": s.get("retransmits", 0), "timeouts": s.get("timeouts", 0),
                           "lend": s}) + "\n"


def start_node(iface="eth0"):
    return Lending(iface) if os.environ.get("POOL") == "kernel" else Daemon(iface)


def pktgen_sh(call):
    """Runs a function of bench/guest/pktgen.sh in bash; returns the Popen."""
    lib = os.path.join(os.environ["OMX_ROOT"], "bench/guest/pktgen.sh")
    return subprocess.Popen(["bash", "-c", '. "$0" && "$@"', lib] + call,
                            stdout=subprocess.PIPE, text=True)


def procs():
    """/proc/PID/stat of every process, each line prefixed with "proc "."""
    out = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                out.append("proc " + open(f"/proc/{pid}/stat").read())
            except OSError:
                pass
    return "".join(out)


def main():
    node = start_node()
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((ADDR, PORT))
    srv.listen(4)
    srv.settimeout(5)
    open(f"{SHARED}/pool.ready", "w").close()
    sender = None  # the running pktgen_send, if any
    while True:
        try:
            conn, _ = srv.accept()
        except socket.timeout:
            if os.path.exists(f"{SHARED}/done"):
                break
            continue
        with conn:
            conn.settimeout(60)
            cmd = conn.makefile("r").readline().strip()
            if cmd == "stat":
                reply = ("uptime " + open("/proc/uptime").read() + open("/proc/stat").read()
                         + open("/proc/net/dev").read() + procs())
            elif cmd == "ps":
                reply = subprocess.run(["ps", "-eo", "pid,time,rss,args", "--sort=-time"],
                                       capture_output=True, text=True).stdout
            elif cmd == "jumbo":
                node.stop()
                subprocess.run(["ip", "link", "set", "eth0", "mtu", "9000"], check=True)
                node = start_node()
                time.sleep(1)
                reply = "ok\n"
            elif cmd in ("macsec", "plain"):
                node.stop()
                reply = "ok\n"
                try:
                    if cmd == "macsec":
                        up = os.path.join(os.environ["OMX_ROOT"], "tests/vm/guest/macsec-up.sh")
                        subprocess.run(["bash", "-c", '. "$0" 1', up], check=True,
                                       stdout=subprocess.DEVNULL)
                    else:
                        subprocess.run(["ip", "link", "del", "macsec0"], check=True)
                except (OSError, KeyError, subprocess.CalledProcessError) as e:
                    reply = f"error: {e}\n"
                node = start_node("macsec0" if cmd == "macsec" and reply == "ok\n" else "eth0")
                time.sleep(1)
            elif cmd == "nodestats":
                try:
                    reply = node.stats()
                except (OSError, subprocess.CalledProcessError, ValueError) as e:
                    reply = f'{{"error": "{e}"}}\n'
            elif cmd.startswith("pktgen "):
                _, mac, size, secs = cmd.split()
                if sender:
                    sender.wait()
                sender = pktgen_sh(["pktgen_send", "eth0", mac, size, secs])
                reply = "ok\n"
            elif cmd.startswith("rxrate "):
                _, skip, secs = cmd.split()
                reply = pktgen_sh(["rx_rate", "eth0", skip, secs]).communicate()[0]
            elif cmd == "quit":
                conn.sendall(b"bye\n")
                break
            else:
                reply = f"unknown command {cmd!r}\n"
            conn.sendall(reply.encode())
    if sender:
        sender.wait()
    node.stop()


if __name__ == "__main__":
    main()
