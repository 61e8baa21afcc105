"""trunkline.contrib: integrations with other systems (Luigi's ``luigi.contrib``).

One module per integration, at Luigi's path. Each imports without its optional
library; using a class whose library is missing raises an ImportError naming
the pip extra to install.
"""
