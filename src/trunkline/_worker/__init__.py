"""The worker's parts that need no patch points; ``trunkline.worker`` is the shell.

    graph          the iterative requires() walk and the completeness checker
    messages       result channels, TaskStatusReporter, SchedulerMessage
    supervisor     child task processes: results, timeouts, deaths, stopping
    pool           reusable forked task processes
    registrations  telling the scheduler what a walk found (batched when invisible)
    leases         work_cycle leasing against a remote trunkline scheduler
    progress       the live progress line
    completion     Luigi's check_complete helpers and queue stand-ins
    config         the ``[worker]`` section
    errors         the worker's exceptions
"""
