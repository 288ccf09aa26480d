"""The mmgan Gradio demo (the code lives in :mod:`mmgan.demo`): ``python demos/app.py``.

``build_demo(pipeline) -> gr.Blocks`` and ``main()`` are re-exported here.
"""

from mmgan.demo import build_demo, main

__all__ = ["build_demo", "main"]

if __name__ == "__main__":
    main()
