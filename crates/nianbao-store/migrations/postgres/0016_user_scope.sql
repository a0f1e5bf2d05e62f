-- What a points-only account may reach: the classes a 班主任 or 任课教师 records points for,
-- and the one student (学号) a student's account belongs to, within the user's school.

CREATE TABLE user_class (
    user_id BIGINT NOT NULL REFERENCES app_user(id),
    class TEXT NOT NULL,
    PRIMARY KEY (user_id, class)
);

CREATE TABLE user_student (
    user_id BIGINT PRIMARY KEY REFERENCES app_user(id),
    number TEXT NOT NULL
);
