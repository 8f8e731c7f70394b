// conex's default seccomp profile: allow by default, refuse (EPERM) the system calls that Docker's and podman's
// default profiles withhold from unprivileged containers: kernel modules, kexec, reboot, clock setting, keyrings,
// mount/namespace manipulation, tracing of other processes, and the like. --privileged runs without it.
const DENIED = [
  'acct', 'add_key', 'bpf', 'clock_adjtime', 'clock_settime', 'create_module', 'delete_module', 'finit_module',
  'get_kernel_syms', 'get_mempolicy', 'init_module', 'ioperm', 'iopl', 'kcmp', 'kexec_file_load', 'kexec_load',
  'keyctl', 'lookup_dcookie', 'mbind', 'mount', 'move_mount', 'fsopen', 'fsconfig', 'fsmount', 'fspick', 'open_tree',
  'move_pages', 'name_to_handle_at', 'nfsservctl', 'open_by_handle_at', 'perf_event_open', 'pivot_root',
  'process_vm_readv', 'process_vm_writev', 'ptrace', 'query_module', 'quotactl', 'reboot', 'request_key',
  'set_mempolicy', 'setns', 'settimeofday', 'stime', 'swapon', 'swapoff', 'sysfs', '_sysctl', 'umount', 'umount2',
  'unshare', 'uselib', 'userfaultfd', 'ustat', 'vm86', 'vm86old', 'syslog',
]

const EPERM = 1

// The profile in OCI form (linux.seccomp).
export function defaultSeccompProfile (): Record<string, unknown> {
  return {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32', 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'],
    syscalls: [{ names: DENIED, action: 'SCMP_ACT_ERRNO', errnoRet: EPERM }],
  }
}

export const DENIED_SYSCALLS: readonly string[] = DENIED
