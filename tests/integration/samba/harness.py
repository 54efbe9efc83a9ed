"""A throw-away Samba AD DC on 127.0.0.1 for the AD connector's tests, the end-to-end tests and the benchmark.

Samba's AD DC has fixed ports (389, 636, 88, 3268/3269, 464), so one DC runs per machine at a time; a file lock
(``/tmp/syncd-samba.lock``) serialises test sessions. Everything the DC writes lives under its directory, it
listens only on 127.0.0.1, and the services that would reach the network (DNS update, NetBIOS) are disabled.
``reference/samba-feasibility.md`` has the verified commands this module follows.

Command line: ``python -m tests.integration.samba.harness install | provision DIR | start DIR | stop DIR``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import signal
import socket
import ssl
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ldap3 import (
    BASE,
    MODIFY_ADD,
    MODIFY_DELETE,
    MODIFY_REPLACE,
    NONE,
    SUBTREE,
    Connection,
    Server,
    Tls,
)
from ldap3.protocol.formatters.formatters import format_sid

REALM = "SYNCD.TEST"
DOMAIN = "SYNCD"
BASE_DN = "DC=syncd,DC=test"
ADMIN_DN = f"CN=Administrator,CN=Users,{BASE_DN}"
ADMIN_PASSWORD = "Passw0rd!Syncd1"
TLS_NAME = "DC1.syncd.test"
HOST = "127.0.0.1"
LDAPS_URL = f"ldaps://{HOST}:636"
LDAP_URL = f"ldap://{HOST}:389"
USERS_OU = f"OU=SyncTest,{BASE_DN}"
SERVICE_OU = f"OU=Service,{BASE_DN}"
SERVICE_DN = f"CN=svc-syncd,{SERVICE_OU}"
SERVICE_PASSWORD = "Svc!Passw0rd-Syncd2"
HOST_GROUP_DN = f"CN=CWMS Hosts,{USERS_OU}"
NESTED_GROUP_DN = f"CN=Hosts Nested,{USERS_OU}"
DEEP_GROUP_DN = f"CN=Hosts Deep,{USERS_OU}"
# A group whose name holds filter syntax: a connector that does not escape it reads the wrong members.
ODD_GROUP_DN = f"CN=Odd*)(Hosts,{USERS_OU}"
ODD_GROUP_MEMBERS = ("user00001", "user00002", "user00003")
LOCK_FILE = "/tmp/syncd-samba.lock"

PACKAGES = [
    "samba", "samba-ad-dc", "samba-ad-provision", "samba-dsdb-modules", "samba-vfs-modules", "winbind", "ldb-tools",
]
UAC_ENABLED = 544    # NORMAL_ACCOUNT | PASSWD_NOTREQD: no password hashing, so seeding is fast
UAC_DISABLED = 546
NEVER = 0x7FFFFFFFFFFFFFFF
FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)


class HarnessError(RuntimeError):
    """Samba cannot be installed, provisioned or started here."""


def run(cmd: list[str], *, timeout: float = 300, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        raise HarnessError(f"{cmd[0]} {' '.join(cmd[1:3])} failed ({proc.returncode}): {' | '.join(tail)}")
    return proc.stdout


def is_installed() -> bool:
    return bool(shutil.which("samba") and shutil.which("samba-tool")) and Path("/usr/share/samba/setup").is_dir()


def install() -> None:
    """Install Samba from Debian's packages unless present; the packages' services are kept from starting."""
    if is_installed():
        return
    if os.geteuid() != 0:
        raise HarnessError("Samba is not installed and installing it needs root")
    if not shutil.which("apt-get"):
        raise HarnessError("Samba is not installed and there is no apt-get to install it")
    policy = Path("/usr/sbin/policy-rc.d")
    created = not policy.exists()
    if created:
        # invoke-rc.d would start smbd/nmbd/winbind on every interface; exit 101 = "action forbidden".
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
    try:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        run(["apt-get", "update", "-qq"], timeout=600, env=env)
        run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *PACKAGES], timeout=1200, env=env)
    finally:
        if created:
            policy.unlink(missing_ok=True)
    if not is_installed():
        raise HarnessError("Samba packages installed but samba/samba-tool are still missing")


def provision(directory: Path) -> None:
    """Provision a fresh domain into ``directory`` (removed first), bound to 127.0.0.1 only."""
    d = directory.resolve()
    if d.exists():
        shutil.rmtree(d)
    (d / "run").mkdir(parents=True)
    (d / "log").mkdir()
    options = {
        "interfaces": HOST,
        "bind interfaces only": "yes",
        "disable netbios": "yes",
        "server services": "ldap cldap kdc",
        "dns update command": "/bin/true",
        "log file": f"{d}/log/samba.log",
        "pid directory": f"{d}/run",
        "ncalrpc dir": f"{d}/run/ncalrpc",
        "winbindd socket directory": f"{d}/run/winbindd",
        "ntp signd socket directory": f"{d}/run/ntp_signd",
    }
    cmd = [
        "samba-tool", "domain", "provision", "--quiet", f"--realm={REALM}", f"--domain={DOMAIN}",
        "--server-role=dc", "--dns-backend=NONE", "--use-rfc2307", "--backend-store=mdb",
        f"--adminpass={ADMIN_PASSWORD}", "--host-name=dc1", f"--host-ip={HOST}", f"--targetdir={d}",
    ]
    cmd += [f"--option={k}={v}" for k, v in options.items()]
    run(cmd, timeout=600)


def _conf(directory: Path) -> Path:
    return directory.resolve() / "etc" / "smb.conf"


def _pid(directory: Path) -> int | None:
    pidfile = directory.resolve() / "run" / "samba.pid"
    try:
        pid = int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        # Samba leaves its pid file behind; never signal a recycled pid that is not samba.
        if Path(f"/proc/{pid}/comm").read_text().strip() != "samba":
            return None
    except OSError:
        return None
    return pid


def port_open(port: int, host: str = HOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def start(directory: Path, timeout: float = 60.0) -> None:
    """Start the DC (single-process model) in the background and wait until LDAPS answers a bind."""
    d = directory.resolve()
    if _pid(d) is not None:
        return
    if port_open(389) or port_open(636):
        raise HarnessError("127.0.0.1:389/636 is already in use (another LDAP server or Samba DC is running)")
    log = open(d / "log" / "samba.stdout", "ab")  # noqa: SIM115 - handed to the child
    try:
        subprocess.Popen(
            ["samba", "--foreground", "--no-process-group", "-M", "single", f"--configfile={_conf(d)}"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
        )
    finally:
        log.close()
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if port_open(636):
            try:
                conn = admin_connection(d)
                conn.unbind()
                return
            except Exception as exc:
                last = f"{type(exc).__name__}: {exc}"
        time.sleep(0.2)
    raise HarnessError(f"Samba did not answer on {LDAPS_URL} within {timeout:.0f}s ({last}); see {d}/log")


def stop(directory: Path, timeout: float = 30.0) -> None:
    """SIGTERM the DC's root process (it takes its children along) and wait until its ports are closed."""
    d = directory.resolve()
    pid = _pid(d)
    if pid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
            time.sleep(0.1)
        if Path(f"/proc/{pid}").exists():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            time.sleep(0.3)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and (port_open(389) or port_open(636)):
        time.sleep(0.1)


def ca_file(directory: Path) -> Path:
    return directory.resolve() / "private" / "tls" / "ca.pem"


def tls_config(directory: Path) -> Tls:
    return Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=str(ca_file(directory)), valid_names=[TLS_NAME])


def admin_connection(directory: Path, *, receive_timeout: int = 60) -> Connection:
    server = Server(LDAPS_URL, use_ssl=True, tls=tls_config(directory), get_info=NONE, connect_timeout=5)
    return Connection(server, ADMIN_DN, ADMIN_PASSWORD, auto_bind=True, receive_timeout=receive_timeout,
                      raise_exceptions=True, return_empty_attributes=False)


def filetime(dt: datetime) -> int:
    return int((dt - FILETIME_EPOCH).total_seconds() * 10_000_000)


def user_dn(sam: str) -> str:
    return f"CN={sam},{USERS_OU}"


# ---------------------------------------------------------------------------------------------------------- seeding

@dataclass(frozen=True)
class SeededUser:
    sam: str
    mail: str
    disabled: bool
    expires: datetime | None     # None: never
    group: str | None            # the group of the host-group tree the user is a direct member of
    deleted: bool


@dataclass
class Seed:
    """What :func:`seed` created, so tests derive expected counts from the data rather than repeat constants."""

    users: list[SeededUser] = field(default_factory=list)

    def live(self) -> list[SeededUser]:
        return [u for u in self.users if not u.deleted]

    def counts(self, now: datetime) -> dict[str, int]:
        live = self.live()
        return {
            "live": len(live),
            "deleted": sum(u.deleted for u in self.users),
            "enabled": sum(not u.disabled for u in live),
            "disabled": sum(u.disabled for u in live),
            "expired": sum(u.expires is not None and u.expires <= now for u in live),
            "eligible": sum(u.group is not None for u in live),
        }


PAST = datetime(2020, 1, 1, tzinfo=UTC)
FUTURE = datetime(2200, 1, 1, tzinfo=UTC)


def plan_users(n: int) -> list[SeededUser]:
    """The seeded population. Every 10th user (from 5) disabled; i % 25 == 3 expired, == 4 expires in 2200;
    users 0..49% in the host group tree (direct, nested, nested twice); every 100th (from 7) deleted."""
    users = []
    for i in range(n):
        if i < n * 30 // 100:
            group = HOST_GROUP_DN
        elif i < n * 45 // 100:
            group = NESTED_GROUP_DN
        elif i < n * 50 // 100:
            group = DEEP_GROUP_DN
        else:
            group = None
        expires = PAST if i % 25 == 3 else FUTURE if i % 25 == 4 else None
        users.append(SeededUser(f"user{i:05d}", f"user{i:05d}@syncd.test", i % 10 == 5, expires, group, i % 100 == 7))
    return users


def seed(directory: Path, n: int = 1000) -> Seed:
    """Create the OUs, the service account (not an admin), the host-group tree and ``n`` users over LDAPS."""
    conn = admin_connection(directory, receive_timeout=600)
    try:
        for ou in (USERS_OU, SERVICE_OU):
            conn.add(ou, ["top", "organizationalUnit"])
        pw = f'"{SERVICE_PASSWORD}"'.encode("utf-16-le")
        conn.add(SERVICE_DN, ["top", "person", "organizationalPerson", "user"],
                 {"sAMAccountName": "svc-syncd", "userPrincipalName": "svc-syncd@syncd.test", "unicodePwd": pw,
                  "userAccountControl": 512})
        for gdn in (HOST_GROUP_DN, NESTED_GROUP_DN, DEEP_GROUP_DN):
            cn = gdn.split(",", 1)[0][3:]
            conn.add(gdn, ["top", "group"], {"sAMAccountName": cn.replace(" ", "-").lower()})
        users = plan_users(n)
        members: dict[str, list[str]] = {HOST_GROUP_DN: [NESTED_GROUP_DN], NESTED_GROUP_DN: [DEEP_GROUP_DN],
                                         DEEP_GROUP_DN: []}
        for u in users:
            attrs: dict[str, object] = {
                "sAMAccountName": u.sam, "userPrincipalName": f"{u.sam}@syncd.test", "mail": u.mail,
                "givenName": "User", "sn": u.sam, "userAccountControl": UAC_DISABLED if u.disabled else UAC_ENABLED,
            }
            if u.expires is not None:
                attrs["accountExpires"] = filetime(u.expires)
            conn.add(user_dn(u.sam), ["top", "person", "organizationalPerson", "user"], attrs)
            if u.group is not None:
                members[u.group].append(user_dn(u.sam))
        conn.add(ODD_GROUP_DN, ["top", "group"], {"sAMAccountName": "odd-hosts"})
        members[ODD_GROUP_DN] = [user_dn(sam) for sam in ODD_GROUP_MEMBERS if any(u.sam == sam for u in users)]
        for gdn, dns in members.items():
            for i in range(0, len(dns), 500):
                conn.modify(gdn, {"member": [(MODIFY_ADD, dns[i:i + 500])]})
        for u in users:
            if u.deleted:
                conn.delete(user_dn(u.sam))
        conn.search(SERVICE_DN, "(objectClass=*)", BASE, attributes=["objectSid"])
        sid = format_sid(conn.entries[0].objectSid.raw_values[0])
    finally:
        conn.unbind()
    grant_deleted_objects_read(directory, sid)
    return Seed(users)


def grant_deleted_objects_read(directory: Path, sid: str) -> None:
    """Let the service account list and read ``CN=Deleted Objects`` (what ``dsacls ... /G svc:LCRP`` does on
    Windows). Written straight into sam.ldb with ldbmodify: the container is hidden, and the system session
    may change its descriptor."""
    d = directory.resolve()
    sam = str(d / "private" / "sam.ldb")
    dn = f"CN=Deleted Objects,{BASE_DN}"
    out = run(["ldbsearch", "-H", sam, "--show-deleted", "-s", "base", "-b", dn, "nTSecurityDescriptor"])
    unfolded = re.sub(r"\n ", "", out)
    m = re.search(r"^nTSecurityDescriptor: (.+)$", unfolded, re.M)
    if m is None:
        raise HarnessError("cannot read the security descriptor of CN=Deleted Objects")
    sddl = m.group(1)
    ace = f"(A;;RPLC;;;{sid})"
    if ace in sddl:
        return
    dacl = re.search(r"D:[A-Z]*", sddl)
    if dacl is None:
        raise HarnessError(f"no DACL in the descriptor of CN=Deleted Objects: {sddl}")
    sddl = sddl[: dacl.end()] + ace + sddl[dacl.end():]
    ldif = f"dn: {dn}\nchangetype: modify\nreplace: nTSecurityDescriptor\nnTSecurityDescriptor: {sddl}\n"
    proc = subprocess.run(["ldbmodify", "-H", sam, "--show-deleted"], input=ldif, capture_output=True, text=True,
                          timeout=60, check=False)
    if proc.returncode != 0:
        raise HarnessError(f"ldbmodify of CN=Deleted Objects failed: {proc.stderr.strip()}")


# ---------------------------------------------------------------------------------------------- the running DC

def _sockets(directory: str, names: list[str]) -> list[str]:
    """copytree ignore: the DC's Unix sockets (it creates them again at start)."""
    return [n for n in names if stat.S_ISSOCK(os.lstat(os.path.join(directory, n)).st_mode)]


@dataclass
class SambaDC:
    """A provisioned, seeded DC with a snapshot to restore, plus the changes tests make to it."""

    directory: Path
    snapshot_dir: Path
    seed: Seed
    url: str = LDAPS_URL
    plain_url: str = LDAP_URL
    tls_name: str = TLS_NAME
    base_dn: str = BASE_DN
    users_ou: str = USERS_OU
    bind_dn: str = SERVICE_DN           # the non-admin service account the connector binds as
    password: str = field(default=SERVICE_PASSWORD, repr=False)    # a failing test's report prints the repr
    host_group_dn: str = HOST_GROUP_DN
    nested_group_dn: str = NESTED_GROUP_DN
    deep_group_dn: str = DEEP_GROUP_DN
    odd_group_dn: str = ODD_GROUP_DN
    admin_dn: str = ADMIN_DN
    admin_password: str = field(default=ADMIN_PASSWORD, repr=False)

    @property
    def ca_file(self) -> str:
        return str(ca_file(self.directory))

    # -- lifecycle
    def stop(self) -> None:
        stop(self.directory)

    def start(self) -> None:
        start(self.directory)

    def running(self) -> bool:
        return _pid(self.directory) is not None

    def take_snapshot(self) -> None:
        """Copy the stopped DC's directory aside (the caller restarts it)."""
        stop(self.directory)
        if self.snapshot_dir.exists():
            shutil.rmtree(self.snapshot_dir)
        shutil.copytree(self.directory, self.snapshot_dir, symlinks=True, ignore=_sockets)

    def restore(self) -> None:
        """Put the seeded state back: stop, copy the snapshot over, start (about 1-3 s)."""
        stop(self.directory)
        shutil.rmtree(self.directory)
        shutil.copytree(self.snapshot_dir, self.directory, symlinks=True, ignore=_sockets)
        start(self.directory)

    # -- changes (as the administrator, over LDAPS)
    @contextlib.contextmanager
    def admin(self) -> Iterator[Connection]:
        conn = admin_connection(self.directory)
        try:
            yield conn
        finally:
            conn.unbind()

    def user_dn(self, sam: str) -> str:
        return user_dn(sam)

    def guid_of(self, sam: str) -> str:
        from ldap3.protocol.microsoft import show_deleted_control

        with self.admin() as conn:
            conn.search(self.base_dn, f"(sAMAccountName={sam})", SUBTREE, attributes=["objectGUID"],
                        controls=[show_deleted_control(False)])
            return str(uuid.UUID(bytes_le=conn.entries[0].objectGUID.raw_values[0]))

    def disable(self, sam: str) -> None:
        self._replace(sam, "userAccountControl", UAC_DISABLED)

    def enable(self, sam: str) -> None:
        self._replace(sam, "userAccountControl", UAC_ENABLED)

    def set_mail(self, sam: str, mail: str) -> None:
        self._replace(sam, "mail", mail)

    def set_account_expires(self, sam: str, when: datetime | None) -> None:
        self._replace(sam, "accountExpires", NEVER if when is None else filetime(when))

    def delete(self, sam: str) -> None:
        with self.admin() as conn:
            conn.delete(user_dn(sam))

    def add_member(self, group_dn: str, sam: str) -> None:
        with self.admin() as conn:
            conn.modify(group_dn, {"member": [(MODIFY_ADD, [user_dn(sam)])]})

    def remove_member(self, group_dn: str, sam: str) -> None:
        with self.admin() as conn:
            conn.modify(group_dn, {"member": [(MODIFY_DELETE, [user_dn(sam)])]})

    def add_user(self, sam: str, mail: str | None = None, *, disabled: bool = False) -> None:
        with self.admin() as conn:
            attrs: dict[str, object] = {"sAMAccountName": sam, "userPrincipalName": f"{sam}@syncd.test",
                                        "userAccountControl": UAC_DISABLED if disabled else UAC_ENABLED}
            if mail:
                attrs["mail"] = mail
            conn.add(user_dn(sam), ["top", "person", "organizationalPerson", "user"], attrs)

    def add_account_with_password(self, sam: str, password: str) -> str:
        """An enabled account that can bind (nothing granted on CN=Deleted Objects); returns its DN."""
        dn = f"CN={sam},{SERVICE_OU}"
        with self.admin() as conn:
            conn.add(dn, ["top", "person", "organizationalPerson", "user"],
                     {"sAMAccountName": sam, "userPrincipalName": f"{sam}@syncd.test", "userAccountControl": 512,
                      "unicodePwd": f'"{password}"'.encode("utf-16-le")})
        return dn

    def _replace(self, sam: str, attr: str, value: object) -> None:
        with self.admin() as conn:
            conn.modify(user_dn(sam), {attr: [(MODIFY_REPLACE, [value])]})


@contextlib.contextmanager
def machine_lock(timeout: float = 900.0) -> Iterator[None]:
    """Hold the one-DC-per-machine lock; waits for another test session to finish with its DC."""
    with open(LOCK_FILE, "w") as fh:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise HarnessError(f"another session holds {LOCK_FILE} (its Samba DC owns the ports)") from None
                time.sleep(1)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


CACHE_ROOT = Path("/tmp/syncd-samba-cache")


WORKDIR = Path("/tmp/syncd-samba")   # fixed: smb.conf holds absolute paths, and one DC runs per machine anyway


def _cache_key(n_users: int, directory: Path) -> str:
    """Changes whenever this module (provisioning, seed plan), the installed Samba or the DC's path changes."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update(str(directory.resolve()).encode())
    digest.update(run(["samba", "--version"]).encode())
    return f"{n_users}-{digest.hexdigest()[:16]}"


def bring_up(workdir: Path = WORKDIR, n_users: int = 1000, *, use_cache: bool = True) -> SambaDC:
    """Install when missing, provision into ``workdir/dc``, start, seed ``n_users``, snapshot, start again.

    The seeded, stopped directory is cached under ``/tmp/syncd-samba-cache`` (keyed by this module's text, the
    Samba version and ``n_users``): provisioning and seeding take 30-60 s, a copy takes under a second."""
    install()
    directory = workdir / "dc"
    snapshot = workdir / "dc.snapshot"
    # A session killed before its teardown leaves its DC running here; the caller holds the machine lock, so it
    # is nobody's any more.
    stop(directory)
    cached = CACHE_ROOT / _cache_key(n_users, directory)
    if use_cache and (cached / "complete").exists():
        if directory.exists():
            shutil.rmtree(directory)
        shutil.copytree(cached / "dc", directory, symlinks=True, ignore=_sockets)
        dc = SambaDC(directory=directory, snapshot_dir=snapshot, seed=Seed(plan_users(n_users)))
        dc.take_snapshot()
        start(directory)
        return dc
    provision(directory)
    start(directory)
    seeded = seed(directory, n_users)
    dc = SambaDC(directory=directory, snapshot_dir=snapshot, seed=seeded)
    dc.take_snapshot()
    if use_cache:
        if cached.exists():
            shutil.rmtree(cached)
        shutil.copytree(snapshot, cached / "dc", symlinks=True, ignore=_sockets)
        (cached / "complete").write_text(datetime.now(UTC).isoformat())
    start(directory)
    return dc


def main(argv: list[str]) -> int:
    usage = "usage: harness.py install | provision DIR | start DIR | stop DIR | seed DIR [N]"
    if not argv:
        print(usage, file=sys.stderr)
        return 2
    try:
        match argv:
            case ["install"]:
                install()
            case ["provision", d]:
                provision(Path(d))
            case ["start", d]:
                start(Path(d))
            case ["stop", d]:
                stop(Path(d))
            case ["seed", d, *rest]:
                seed(Path(d), int(rest[0]) if rest else 1000)
            case _:
                print(usage, file=sys.stderr)
                return 2
    except HarnessError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
