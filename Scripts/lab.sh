# The seed scenario's lab, built inside the IPVS VM (sourced by Scripts/demo.sh and the kernel tests).
# Director in the root namespace of the VM on bridge br0 (192.0.2.1, VIP 192.0.2.10), a client namespace and
# two direct-routing real servers rs1/rs2, each answering on ports 80 and 443 with its own name.
# Only documentation addresses are used, and the VM has no network device: nothing leaves it.
LVSCTL=${LVSCTL:-$PWD/.build/debug/lvsctl}
VIP=192.0.2.10

lab_up() {
  ip link add br0 type bridge && ip link set br0 up
  ip addr add 192.0.2.1/24 dev br0
  ip addr add $VIP/32 dev br0
  local i=0
  for n in client rs1 rs2; do
    i=$((i+1))
    ip netns add $n
    ip link add v-$n type veth peer name eth0 netns $n
    ip link set v-$n master br0 up
    ip -n $n link set lo up
    ip -n $n link set eth0 up
  done
  ip -n client addr add 192.0.2.100/24 dev eth0
  ip -n rs1 addr add 192.0.2.11/24 dev eth0
  ip -n rs2 addr add 192.0.2.12/24 dev eth0
  for n in rs1 rs2; do
    ip netns exec $n python3 -c '
import socket, sys, threading
name = sys.argv[1]
def serve(port):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("", port)); s.listen(64)
    while True:
        c, _ = s.accept(); c.sendall((name + "\n").encode()); c.close()
for p in (80, 443): threading.Thread(target=serve, args=(p,), daemon=True).start()
threading.Event().wait()' $n &
    LAB_PIDS+=($!)
  done
  # Wait until both servers listen on both ports: python3 starts slowly under emulation, and a connection made
  # before that is refused (seen as "no-answer" when everything before it ran fast).
  for n in rs1 rs2; do
    for i in $(seq 1 300); do
      l=$(ip netns exec $n ss -Hltn 2>/dev/null)
      [[ $l == *":80 "* && $l == *":443 "* ]] && break
      sleep 0.1
    done
  done
  # Warm up the bridge and neighbour tables so the first measured connection is not the one that waits for them.
  # (No ping here: a TCP connection attempt resolves the neighbour just as well.)
  for a in 192.0.2.1 192.0.2.11 192.0.2.12; do ip netns exec client timeout 2 bash -c "exec 3<>/dev/tcp/$a/80" >/dev/null 2>&1; done
  sleep 1
}

# The real-server side of direct routing (seed 003), with lvsctl: sysctl method (arp_ignore=1, arp_announce=2,
# VIP /32 on lo), run inside each real server's namespace.
lab_rs_setup() {
  for n in rs1 rs2; do $LVSCTL --netns $n dr setup --vip $VIP "$@" || return 1; done
}

# fetch PORT: one TCP connection from the client to VIP:PORT; prints the real server's name.
fetch() {
  ip netns exec client timeout 20 bash -c "exec 3<>/dev/tcp/$VIP/$1 && head -1 <&3" 2>/dev/null || echo "no-answer"
}

lab_down() {
  for p in "${LAB_PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
  for n in client rs1 rs2; do ip netns del $n 2>/dev/null; done
  ip link del br0 2>/dev/null
  return 0
}
LAB_PIDS=()
