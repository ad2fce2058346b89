"""The machine underneath: devices, CPU threads, processes, run profiles, progress, safe files.

The lowest layer: it imports nothing else of ``rnncourse``, and everything else may import it.
"""
