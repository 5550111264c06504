/*
 * compat_stdio - C stdio on a path, for the compatibility suite: what a
 * plain C program does with fopen, fgets, fread, fprintf, fseek.
 *
 *	compat_stdio read|write|append|seek PATH
 */
#include <stdio.h>
#include <string.h>

static int
dump(const char *path)
{
	char line[256];
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		perror(path);
		return 1;
	}
	while (fgets(line, sizeof(line), f) != NULL)
		printf("[%.*s]\n", (int)strcspn(line, "\n"), line);
	return fclose(f) != 0;
}

int
main(int argc, char **argv)
{
	char buf[16] = "";
	FILE *f;

	if (argc != 3)
		return 2;
	if (strcmp(argv[1], "read") == 0) {
		if (dump(argv[2]) != 0 || (f = fopen(argv[2], "rb")) == NULL)
			return 1;
		printf("%zu ", fread(buf, 1, 7, f));
		printf("%.7s\n", buf);
		return fclose(f);
	}
	if (strcmp(argv[1], "write") == 0) {
		if ((f = fopen(argv[2], "w")) == NULL)
			return 1;
		fprintf(f, "%d %s\n", 42, "answer");
		fputs("second\n", f);
		if (fclose(f) != 0)
			return 1;
		return dump(argv[2]);
	}
	if (strcmp(argv[1], "append") == 0) {
		if ((f = fopen(argv[2], "a")) == NULL)
			return 1;
		fprintf(f, "six\n");
		if (fclose(f) != 0)
			return 1;
		return dump(argv[2]);
	}
	if (strcmp(argv[1], "seek") == 0) {
		if ((f = fopen(argv[2], "r+")) == NULL)
			return 1;
		fseek(f, 4, SEEK_SET);
		printf("%ld %c\n", ftell(f), fgetc(f));
		fseek(f, -5, SEEK_END);
		printf("%s", fgets(buf, sizeof(buf), f));
		rewind(f);
		fputs("ZZ", f);
		if (fclose(f) != 0)
			return 1;
		return dump(argv[2]);
	}
	return 2;
}
