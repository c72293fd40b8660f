#include "sim_oracle.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#ifndef ALEPH_ORACLE
#error "ALEPH_ORACLE (the path of tests/oracle/oracle.py) must be defined by the build"
#endif

int oracle_check_dir(const char *dir, char *report, size_t report_len)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "python3 '%s' '%s' 2>&1", ALEPH_ORACLE, dir);
    FILE *p = popen(cmd, "r");
    if (!p) {
        snprintf(report, report_len, "cannot start %s", cmd);
        return 2;
    }
    size_t len = 0;
    report[0] = 0;
    char line[4096];
    while (fgets(line, sizeof line, p)) {
        size_t n = strlen(line);
        if (len + n < report_len) {
            memcpy(report + len, line, n + 1);
            len += n;
        }
    }
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 2;
}

void oracle_remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char path[8192];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) oracle_remove_dir(path);
        else unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

int sim_run_oracle(const sim_config *cfg, sim_result *res)
{
    sim_config c = *cfg;
    char tmp[4096];
    int own_dir = c.dump_dir == NULL;
    if (own_dir) {
        const char *base = getenv("TMPDIR");
        snprintf(tmp, sizeof tmp, "%s/aleph-oracle-XXXXXX", base && *base ? base : "/tmp");
        if (!mkdtemp(tmp)) fail_msg("oracle: cannot create a temporary directory");
        c.dump_dir = tmp;
    }
    int rc = sim_run(&c, res);
    if (rc == 0) {
        static char report[16384];
        int status = oracle_check_dir(c.dump_dir, report, sizeof report);
        if (status != 0) {
            char rerun[1024];
            sim_rerun_command(rerun, sizeof rerun, cfg, cfg->seed);
            if (own_dir) oracle_remove_dir(tmp);
            fail_msg("the ordering oracle disagrees (exit %d):\n%s(rerun: %s --dump DIR; "
                     "python3 tests/oracle/oracle.py DIR)", status, report, rerun);
        }
    }
    if (own_dir) oracle_remove_dir(tmp);
    return rc;
}

void sim_run_oracle_passes(const sim_config *cfg, sim_result *res)
{
    if (sim_run_oracle(cfg, res) != 0) {
        char rerun[1024];
        sim_rerun_command(rerun, sizeof rerun, cfg, cfg->seed);
        fail_msg("%s\nrerun: %s", res->failure, rerun);
    }
}
