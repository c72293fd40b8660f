#include "plots.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int run_gnuplot(const char *dir, const char *script, char *err, size_t cap)
{
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, cap, "fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        if (chdir(dir) != 0) _exit(126);
        int fd = open("plots.log", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
        }
        execlp("gnuplot", "gnuplot", script, (char *)NULL);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
        snprintf(err, cap, "gnuplot not found (scripts/install-deps.sh installs gnuplot-nox); "
                           "the CSV files are written");
        return -1;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        snprintf(err, cap, "gnuplot failed (see %s/plots.log)", dir);
        return -1;
    }
    return 0;
}

static int write_script(const run_summary *s, const char *dir, const char *terminal, int *plots)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/plots.gp", dir);
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    const run_config *c = &s->cfg;
    char what[512];
    snprintf(what, sizeof what, "%u members, %s%s%s, %u-byte tx, %.0f tx/s offered", c->members,
             c->network, c->wan_matrix[0] ? " " : "", c->wan_matrix, c->tx_size, c->offered_tx_s);
    fprintf(f,
            "# Drawn by aleph analyze from the CSV files in this directory: gnuplot plots.gp\n"
            "set terminal %s size 1000,560 noenhanced\n"
            "set datafile separator ','\n"
            "set grid\n"
            "# keys right of the plot area, never over the data\n"
            "set key outside right top vertical box width 1\n"
            "set xlabel 'seconds since the load started'\n",
            terminal);
    *plots = 0;
    /* throughput over time */
    fprintf(f,
            "set output 'throughput.png'\n"
            "set title \"Throughput over time\\n%s\"\n"
            "set ylabel 'transactions per second'\n"
            "set yrange [0:*]\n"
            "plot 'series.csv' using 1:2 skip 1 with steps lw 2 title 'offered (client)', \\\n"
            "     '' using 1:3 skip 1 with steps lw 2 title 'ordered at member %u'\n",
            what, s->ref);
    (*plots)++;
    if (s->latency_n) {
        fprintf(f,
                "set output 'latency.png'\n"
                "set title \"End-to-end latency over time (by output second)\\n%s\"\n"
                "set ylabel 'latency (ms)'\n"
                "set yrange [0:*]\n"
                "plot 'series.csv' using 1:6 skip 1 with linespoints lw 2 pt 7 ps 0.5 title 'p50', \\\n"
                "     '' using 1:7 skip 1 with linespoints lw 2 pt 7 ps 0.5 title 'p95', \\\n"
                "     '' using 1:8 skip 1 with linespoints lw 2 pt 7 ps 0.5 title 'p99', \\\n"
                "     '' using 1:5 skip 1 with lines lw 1 dt 2 title 'mean'\n",
                what);
        fprintf(f,
                "set output 'latency_cdf.png'\n"
                "set title \"End-to-end latency distribution over the steady window: p50 %.0f ms, "
                "p95 %.0f, p99 %.0f\\n%s\"\n"
                "set xlabel 'end-to-end latency (ms)'\n"
                "set ylabel 'fraction of transactions'\n"
                "set yrange [0:1]\n"
                "set arrow 1 from %.3f,0 to %.3f,1 nohead dt 3 lw 1\n"
                "set arrow 2 from %.3f,0 to %.3f,1 nohead dt 3 lw 1\n"
                "set arrow 3 from %.3f,0 to %.3f,1 nohead dt 3 lw 1\n"
                "set label 1 'p50' at %.3f,0.03 offset 0.5,0\n"
                "set label 2 'p95' at %.3f,0.03 offset 0.5,0\n"
                "set label 3 'p99' at %.3f,0.03 offset 0.5,0\n"
                "plot 'latency_cdf.csv' using 1:2 skip 1 with lines lw 2 title 'CDF'\n"
                "unset arrow\n"
                "unset label\n",
                s->lat_p50, s->lat_p95, s->lat_p99, what, s->lat_p50, s->lat_p50, s->lat_p95,
                s->lat_p95, s->lat_p99, s->lat_p99, s->lat_p50, s->lat_p95, s->lat_p99);
        *plots += 2;
    }
    fprintf(f,
            "set output 'traffic.png'\n"
            "set title \"Traffic per member (whole run)\\n%s\"\n"
            "set xlabel 'member'\n"
            "set ylabel 'MB per second'\n"
            "set yrange [0:*]\n"
            "set style data histograms\n"
            "set style histogram clustered gap 1\n"
            "set style fill solid 0.7 border -1\n"
            "set boxwidth 0.9\n"
            "plot 'members.csv' using ($3/1e6):xtic(1) skip 1 title 'sent', \\\n"
            "     '' using ($4/1e6) skip 1 title 'received'\n",
            what);
    (*plots)++;
    fclose(f);
    return 0;
}

int plots_draw(const run_summary *s, const char *dir, char *err, size_t cap)
{
    int plots = 0;
    if (write_script(s, dir, "pngcairo", &plots) != 0) {
        snprintf(err, cap, "cannot write %s/plots.gp: %s", dir, strerror(errno));
        return -1;
    }
    if (run_gnuplot(dir, "plots.gp", err, cap) == 0) return plots;
    if (strstr(err, "not found")) return -1;
    /* A gnuplot built without cairo: the libgd terminal. */
    if (write_script(s, dir, "png", &plots) != 0 || run_gnuplot(dir, "plots.gp", err, cap) != 0)
        return -1;
    return plots;
}
