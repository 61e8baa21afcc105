"""Word count as a Hadoop Streaming job (docs/integrations/engines.md).

Here, in the worker's process:
    python docs/examples/hadoop_wordcount.py WordCount --source README.md --destination /tmp/wc.tsv --local-scheduler
On a cluster ([hadoop] streaming-jar set, the output a directory Hadoop writes):
    python docs/examples/hadoop_wordcount.py WordCount --source in/ --destination out/ --on-hadoop
"""

import trunkline as luigi
from trunkline.contrib import hadoop


class Text(luigi.ExternalTask):
    path = luigi.Parameter()

    def output(self):
        return luigi.LocalTarget(self.path)


class WordCount(hadoop.JobTask):
    source = luigi.Parameter()
    destination = luigi.Parameter()
    on_hadoop = luigi.BoolParameter(description="submit with `hadoop jar` instead of running here")

    def requires(self):
        return Text(self.source)

    def output(self):
        return luigi.LocalTarget(self.destination)

    def job_runner(self):
        return hadoop.DefaultHadoopJobRunner() if self.on_hadoop else hadoop.LocalJobRunner()

    def mapper(self, line):
        for word in line.split():
            self.incr_counter("wordcount", "words", 1)
            yield word.lower(), 1

    def combiner(self, word, counts):
        yield word, sum(counts)

    def reducer(self, word, counts):
        yield word, sum(counts)


if __name__ == "__main__":
    luigi.run()
