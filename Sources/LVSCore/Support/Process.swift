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
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 { if errno != EINTR { return -1 } }
    return (status & 0x7f) == 0 ? (status >> 8) & 0xff : -1
}

/// Runs a program and captures its standard output (stderr discarded, or captured too with `withStderr`).
/// Returns nil if it could not start.
public func captureProgram(_ path: String, _ argv: [String], withStderr: Bool = false) -> (status: Int32, output: String)? {
    var fds: [Int32] = [0, 0]
    guard pipe(&fds) == 0 else { return nil }
    var pid: pid_t = 0
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
    posix_spawn_file_actions_addclose(&actions, fds[0])
    if withStderr { posix_spawn_file_actions_adddup2(&actions, fds[1], 2) }
    else { posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0) }
    var cargs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
    defer { for p in cargs { free(p) } }
    let env: [UnsafeMutablePointer<CChar>?] = [strdup("PATH=/usr/sbin:/usr/bin:/sbin:/bin"), nil]
    defer { for p in env { free(p) } }
    let rc = posix_spawn(&pid, path, &actions, nil, &cargs, env)
    close(fds[1])
    guard rc == 0 else { close(fds[0]); return nil }
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = read(fds[0], &buf, buf.count)
        if n > 0 { out.append(contentsOf: buf[0..<n]) } else if n < 0 && errno == EINTR { continue } else { break }
    }
    close(fds[0])
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 { if errno != EINTR { break } }
    return ((status & 0x7f) == 0 ? (status >> 8) & 0xff : -1, String(decoding: out, as: UTF8.self))
}

/// The text of an errno (`strerror`).
public func errnoText(_ e: Int32) -> String { String(cString: strerror(e)) }
