#if canImport(Glibc)
import Glibc
#endif

/// Runs `path` with an argument vector (never a shell string) and waits; returns the exit status,
/// or -1 if it could not be started. Output goes where ours goes unless `quiet`.
@discardableResult
public func runProgram(_ path: String, _ argv: [String], quiet: Bool = true) -> Int32 {
    var pid: pid_t = 0
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    if quiet {
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    }
    var cargs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
    defer { for p in cargs { free(p) } }
    let env: [UnsafeMutablePointer<CChar>?] = [strdup("PATH=/usr/sbin:/usr/bin:/sbin:/bin"), nil]
    defer { for p in env { free(p) } }
    let rc = posix_spawn(&pid, path, &actions, nil, &cargs, env)
    guard rc == 0 else { return -1 }
    guard case .success(let status) = Syscall.waitpid(pid) else { return -1 }
    return exitStatus(status)
}

/// Runs a program and captures its standard output (stderr discarded, or captured too with `withStderr`).
/// Returns nil if it could not start.
public func captureProgram(_ path: String, _ argv: [String], withStderr: Bool = false) -> (status: Int32, output: String)? {
    guard case .success(let fds) = Syscall.pipe() else { return nil }
    var pid: pid_t = 0
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, fds.write, 1)
    posix_spawn_file_actions_addclose(&actions, fds.read)
    if withStderr { posix_spawn_file_actions_adddup2(&actions, fds.write, 2) }
    else { posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0) }
    var cargs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
    defer { for p in cargs { free(p) } }
    let env: [UnsafeMutablePointer<CChar>?] = [strdup("PATH=/usr/sbin:/usr/bin:/sbin:/bin"), nil]
    defer { for p in env { free(p) } }
    let rc = posix_spawn(&pid, path, &actions, nil, &cargs, env)
    Syscall.close(fds.write)
    guard rc == 0 else { Syscall.close(fds.read); return nil }
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 4096)
    while case .success(let n) = buf.withUnsafeMutableBytes({ Syscall.read(fds.read, into: $0) }), n > 0 {
        out.append(contentsOf: buf[0..<n])
    }
    Syscall.close(fds.read)
    let status = (try? Syscall.waitpid(pid).get()) ?? 0
    return (exitStatus(status), String(decoding: out, as: UTF8.self))
}

/// The exit code of a `waitpid` status (`WEXITSTATUS`), or -1 when the program did not exit normally.
private func exitStatus(_ status: Int32) -> Int32 { (status & 0x7f) == 0 ? (status >> 8) & 0xff : -1 }

/// Starts `path` with an argument vector (never a shell string) and the environment `environment` (`NAME=VALUE`
/// strings; nil: this process's), standard input from /dev/null, standard output to our standard error, no signal
/// blocked and every signal at its default action, and does not wait: returns its PID, or the
/// `posix_spawn` error. The caller reaps it (``Syscall/waitpid(_:options:)`` with `WNOHANG`).
public func spawnProgram(_ path: String, _ argv: [String], environment: [String]? = nil) -> Result<pid_t, Errno> {
    var pid: pid_t = 0
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_adddup2(&actions, 2, 1)  // its output goes to our log, never into a data stream
    // A clean signal state: nothing blocked (a daemon blocks the signals it reads from a signalfd), default actions.
    var attr = posix_spawnattr_t()
    posix_spawnattr_init(&attr)
    defer { posix_spawnattr_destroy(&attr) }
    var none = sigset_t(), all = sigset_t()
    sigemptyset(&none)
    sigfillset(&all)
    posix_spawnattr_setsigmask(&attr, &none)
    posix_spawnattr_setsigdefault(&attr, &all)
    posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    var cargs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
    defer { for p in cargs { free(p) } }
    let rc: Int32
    if let environment {
        var env: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
        defer { for p in env { free(p) } }
        rc = posix_spawn(&pid, path, &actions, &attr, &cargs, &env)
    } else {
        rc = posix_spawn(&pid, path, &actions, &attr, &cargs, environ)
    }
    return rc == 0 ? .success(pid) : .failure(Errno(rc))
}
