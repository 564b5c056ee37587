"""The test LAN helpers themselves: a switch namespace joins hosts on one segment, multicast included."""

from __future__ import annotations


def test_switch_joins_hosts_and_floods_multicast(netns):
    lan = netns.switch("lan")
    a, b = netns.add("a"), netns.add("b")
    netns.plug(lan, a, "10.99.9.1/24")
    netns.plug(lan, b, "10.99.9.2/24")
    assert netns.run(a, ["ping", "-c", "1", "-W", "2", "10.99.9.2"], check=False).returncode == 0
    # A receiver in b joined to 224.0.1.75 gets a datagram a sends to the group.
    script = (
        "import socket,struct\n"
        "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
        "s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
        "s.bind(('224.0.1.75',15060))\n"
        "s.setsockopt(socket.IPPROTO_IP,socket.IP_ADD_MEMBERSHIP,struct.pack('4s4s',socket.inet_aton('224.0.1.75'),socket.inet_aton('10.99.9.2')))\n"
        "s.settimeout(5)\n"
        "print(s.recvfrom(100)[0].decode())\n"
    )
    receiver = netns.popen(b, ["python3", "-c", script], text=True)
    sender = (
        "import socket,time\n"
        "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
        "s.setsockopt(socket.IPPROTO_IP,socket.IP_MULTICAST_IF,socket.inet_aton('10.99.9.1'))\n"
        "[ (s.sendto(b'hello-lan',('224.0.1.75',15060)), time.sleep(0.2)) for _ in range(10)]\n"
    )
    netns.run(a, ["python3", "-c", sender])
    out = receiver.communicate(timeout=10)[0]
    assert "hello-lan" in out
