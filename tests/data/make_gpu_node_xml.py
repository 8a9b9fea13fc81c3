#!/usr/bin/env python3
"""Writes gpu-node-2x32c-4gpu.xml: an hwloc 2.0 XML of a made-up but typical GPU node for tests.

2 packages x 32 cores (1 PU each), one 256 GiB NUMA node per package, and 4 NVIDIA RTX A4000
GPUs, two per package, each pair behind one PCIe switch (host bridge -> root port -> switch
upstream port -> downstream ports -> GPU), each GPU seen by two backends (cuda<i>, nvml<i>) as on
a node whose hwloc has the CUDA and NVML plugins. No NVLink (the A4000 has none).

Run from this directory: python3 make_gpu_node_xml.py > gpu-node-2x32c-4gpu.xml
"""

CORES_PER_PACKAGE = 32
PACKAGES = 2
GPUS_PER_PACKAGE = 2
MEM_PER_NUMA = 256 << 30
GPU_MODEL = "NVIDIA RTX A4000"
GPU_MEM_KB = 16 * 1024 * 1024


def bitmap(bits):
    """hwloc's bitmap text: 32-bit words, most significant first."""
    value = sum(1 << b for b in bits)
    words = []
    while True:
        words.append(value & 0xFFFFFFFF)
        value >>= 32
        if value == 0:
            break
    return ",".join("0x%08x" % w for w in reversed(words))


gp = [100]


def gp_index():
    gp[0] += 1
    return gp[0]


def main():
    out = []
    w = out.append
    all_pus = range(PACKAGES * CORES_PER_PACKAGE)
    all_nodes = range(PACKAGES)
    w('<?xml version="1.0" encoding="UTF-8"?>')
    w('<!DOCTYPE topology SYSTEM "hwloc2.dtd">')
    w('<topology version="2.0">')
    w('  <object type="Machine" os_index="0" cpuset="%s" complete_cpuset="%s" nodeset="%s" '
      'complete_nodeset="%s" gp_index="1">' % (bitmap(all_pus), bitmap(all_pus), bitmap(all_nodes), bitmap(all_nodes)))
    w('    <info name="Backend" value="Linux"/>')
    gpu = 0
    for p in range(PACKAGES):
        pus = range(p * CORES_PER_PACKAGE, (p + 1) * CORES_PER_PACKAGE)
        cs, ns = bitmap(pus), bitmap([p])
        w('    <object type="Package" os_index="%d" cpuset="%s" complete_cpuset="%s" nodeset="%s" '
          'complete_nodeset="%s" gp_index="%d">' % (p, cs, cs, ns, ns, gp_index()))
        w('      <info name="CPUVendor" value="GenuineIntel"/>')
        w('      <info name="CPUModel" value="Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz"/>')
        w('      <object type="NUMANode" os_index="%d" cpuset="%s" complete_cpuset="%s" nodeset="%s" '
          'complete_nodeset="%s" gp_index="%d" local_memory="%d"/>' % (p, cs, cs, ns, ns, gp_index(), MEM_PER_NUMA))
        for c in pus:
            b = bitmap([c])
            w('      <object type="Core" os_index="%d" cpuset="%s" complete_cpuset="%s" nodeset="%s" '
              'complete_nodeset="%s" gp_index="%d">' % (c, b, b, ns, ns, gp_index()))
            w('        <object type="PU" os_index="%d" cpuset="%s" complete_cpuset="%s" nodeset="%s" '
              'complete_nodeset="%s" gp_index="%d"/>' % (c, b, b, ns, ns, gp_index()))
            w('      </object>')
        # Buses: package 0 uses 0x10-0x1f, package 1 0x90-0x9f.
        base = 0x10 if p == 0 else 0x90
        w('      <object type="Bridge" gp_index="%d" bridge_type="0-1" depth="0" bridge_pci="0000:[%02x-%02x]">'
          % (gp_index(), base, base + 15))
        w('        <object type="Bridge" gp_index="%d" bridge_type="1-1" depth="1" bridge_pci="0000:[%02x-%02x]" '
          'pci_busid="0000:%02x:00.0" pci_type="0604 [8086:347a] [8086:0000] 04" pci_link_speed="15.753846">'
          % (gp_index(), base + 1, base + 15, base))
        w('          <object type="Bridge" gp_index="%d" bridge_type="1-1" depth="2" bridge_pci="0000:[%02x-%02x]" '
          'pci_busid="0000:%02x:00.0" pci_type="0604 [10b5:8747] [10b5:8747] ca" pci_link_speed="15.753846">'
          % (gp_index(), base + 2, base + 15, base + 1))
        for i in range(GPUS_PER_PACKAGE):
            bus = base + 3 + i
            w('            <object type="Bridge" gp_index="%d" bridge_type="1-1" depth="3" bridge_pci="0000:[%02x-%02x]" '
              'pci_busid="0000:%02x:%02x.0" pci_type="0604 [10b5:8747] [10b5:8747] ca" pci_link_speed="15.753846">'
              % (gp_index(), bus, bus, base + 2, 8 * (i + 1)))
            w('              <object type="PCIDev" gp_index="%d" pci_busid="0000:%02x:00.0" '
              'pci_type="0300 [10de:24b0] [10de:14ad] a1" pci_link_speed="15.753846">' % (gp_index(), bus))
            w('                <info name="PCIVendor" value="NVIDIA Corporation"/>')
            w('                <info name="PCIDevice" value="GA104GL [RTX A4000]"/>')
            w('                <object type="OSDev" gp_index="%d" name="cuda%d" subtype="CUDA" osdev_type="5">' % (gp_index(), gpu))
            w('                  <info name="Backend" value="CUDA"/>')
            w('                  <info name="GPUVendor" value="NVIDIA Corporation"/>')
            w('                  <info name="GPUModel" value="%s"/>' % GPU_MODEL)
            w('                  <info name="CUDAGlobalMemorySize" value="%d"/>' % GPU_MEM_KB)
            w('                </object>')
            w('                <object type="OSDev" gp_index="%d" name="nvml%d" osdev_type="1">' % (gp_index(), gpu))
            w('                  <info name="Backend" value="NVML"/>')
            w('                  <info name="GPUModel" value="%s"/>' % GPU_MODEL)
            w('                  <info name="NVIDIAUUID" value="GPU-00000000-0000-4000-8000-%012d"/>' % gpu)
            w('                </object>')
            w('              </object>')
            w('            </object>')
            gpu += 1
        w('          </object>')
        w('        </object>')
        w('      </object>')
        w('    </object>')
    w('  </object>')
    w('</topology>')
    print("\n".join(out))


if __name__ == "__main__":
    main()
